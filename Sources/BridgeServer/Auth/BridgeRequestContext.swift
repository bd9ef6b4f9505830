import Hummingbird
import NIOCore
import UniversalInbox

/// The request context of every route: who is calling, once the API's auth middleware knows.
struct BridgeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var actor: Caller?
    /// The digest of the agent token the request came with (none for the admin token): a password
    /// change keeps this one session and ends the others.
    var tokenDigest: String?
    /// The connection's peer (login limits per client address).
    let remoteAddress: SocketAddress?
    /// The connection the request came on (see `untilClientLeaves`).
    let channel: any Channel

    init(source: Source) {
        coreContext = .init(source: source)
        actor = nil
        tokenDigest = nil
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The caller of an authenticated route.
    func requireCaller() throws -> Caller {
        guard let actor else { throw APIError(status: .unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token>") }
        return actor
    }

    /// The caller, if they may change settings (owners and admins).
    func requireSettingsManager() throws -> Caller {
        let actor = try requireCaller()
        guard actor.managesSettings else {
            throw APIError(status: .forbidden, code: "admins_only", message: "only an owner or admin may change settings")
        }
        return actor
    }
}
