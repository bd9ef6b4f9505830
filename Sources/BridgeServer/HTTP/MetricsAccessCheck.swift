import Hummingbird

/// Who may read `/metrics` (`server.metrics`): the counters name channels and accounts and show
/// traffic, so by default only the admin token or an owner's or admin's token may; `public` suits a
/// Prometheus on a private network, `off` answers 404.
struct MetricsAccessCheck: Sendable {
    let access: BridgeConfig.MetricsAccess
    let authenticator: Authenticator

    func check(_ request: Request) async throws {
        switch access {
        case .public: return
        case .off: throw APIError(status: .notFound, code: "not_found", message: "metrics are off (server.metrics: off)")
        case .token:
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
                throw APIError(status: .unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token> (server.metrics: token)")
            }
            guard let actor = try await authenticator.actor(token: String(header.dropFirst(7))) else {
                throw APIError(status: .unauthorized, code: "unauthorized", message: "the token is not valid (unknown, revoked or expired)")
            }
            guard actor.managesSettings else {
                throw APIError(status: .forbidden, code: "admins_only", message: "metrics are for owners and admins (server.metrics: token)")
            }
        }
    }
}
