import Foundation
import HTTPTypes
import Hummingbird
import UniversalInbox

/// Logging in and out with an e-mail and password; who the token belongs to. Logins are limited
/// per account and per client address (`LoginThrottle`), and bcrypt runs on the password threads
/// (`PasswordHasher`), never on the pool every other request shares.
struct AuthController: Sendable {
    let inbox: Inbox
    let sessionLifetime: TimeInterval
    /// A hash to verify against when the e-mail is unknown, so both failures take the same time.
    let decoyHash: String
    let throttle: LoginThrottle
    let hasher: PasswordHasher

    /// `POST /api/v1/auth/login` is public (it is how an agent gets a token).
    func addPublicRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/login") { request, context in try await login(request, context) }
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/logout") { _, context in
            if let digest = context.tokenDigest { try await inbox.revokeToken(digest: digest) }
            return Response(status: .noContent)
        }
        group.get("me") { _, context in
            let actor = try context.requireActor()
            guard let id = actor.agentId, let agent = try await inbox.agent(id: id) else {
                return JSONResponse.make(["name": actor.name, "role": actor.role.rawValue])
            }
            return JSONResponse.make(agent)
        }
    }

    func login(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable {
            var email: String
            var password: String
        }
        struct Session: Encodable {
            var token: String
            var expiresAt: Date
            var agent: Agent
        }
        let body = try await request.decode(Body.self, maxBytes: 4096)
        let address = clientAddress(request, context)
        do {
            try throttle.begin(account: body.email, address: address)
        } catch {
            throw APIError(
                status: .tooManyRequests, code: "too_many_attempts",
                message: "too many failed logins for this \(error.scope); try again in \(error.retryAfter) s",
                headers: [.retryAfter: String(error.retryAfter)])
        }
        let found = try await inbox.credentials(email: body.email)
        let matches: Bool
        do {
            matches = try await hasher.verify(body.password, hash: found?.passwordHash ?? decoyHash)
        } catch is PasswordHasherBusy {
            throttle.abandoned(account: body.email, address: address)
            throw APIError.passwordsBusy
        }
        guard matches, let found, found.agent.active else {
            throw APIError(status: .unauthorized, code: "invalid_credentials", message: "the e-mail or password is wrong")
        }
        throttle.succeeded(account: body.email, address: address)
        let token = AccessTokens.generate()
        let expiresAt = Date().addingTimeInterval(sessionLifetime)
        try await inbox.storeToken(digest: AccessTokens.digest(token), agentId: found.agent.id, kind: "session", label: nil, expiresAt: expiresAt)
        return JSONResponse.make(Session(token: token, expiresAt: expiresAt, agent: found.agent), status: .created)
    }

    /// The client's address: the last entry of the configured proxy header, else the peer's IP.
    private func clientAddress(_ request: Request, _ context: BridgeRequestContext) -> String? {
        if let name = throttle.limits.addressHeader, let field = HTTPField.Name(name), let value = request.headers[field],
            let last = value.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return context.remoteAddress?.ipAddress
    }
}

extension APIError {
    /// Every password thread is busy and the queue is full.
    static let passwordsBusy = APIError(
        status: .serviceUnavailable, code: "busy", message: "too many logins or password changes at once; try again shortly",
        headers: [.retryAfter: "1"])
}
