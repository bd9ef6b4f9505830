import ChannelKit
import UniversalInbox

/// Who a bearer token belongs to: the admin token (compared in constant time) or an agent's API or
/// login token (looked up by its digest; revoked, expired and deactivated agents' tokens are
/// nobody's). Used by the REST API, `/metrics` and the live WebSocket.
struct Authenticator: Sendable {
    let adminToken: String
    let inbox: Inbox

    func actor(token: String) async throws -> Caller? {
        // The admin token is at least 32 characters (AdminToken.check); an empty one never matches.
        guard !token.isEmpty else { return nil }
        if Signatures.constantTimeEquals(token, adminToken) { return .adminToken }
        guard token.hasPrefix("brg_") else { return nil }
        return try await inbox.actor(tokenDigest: AccessTokens.digest(token))
    }
}
