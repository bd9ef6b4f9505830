import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging

/// Upgrades `GET /api/v1/live` to a WebSocket for an authenticated agent: `Authorization: Bearer`,
/// `?token=` for clients that cannot set headers on a WebSocket, or the web page's session cookie,
/// which then needs the bridge's own `Origin` (any site's page may open a WebSocket, and the browser
/// sends the cookie with it). A request that is not an upgrade goes on to the REST route, which
/// answers with a JSON error; an upgrade without a valid token is refused (an empty 400).
enum LiveSocket {
    static let path = "/api/v1/live"

    static func upgrade(
        hub: LiveHub, authenticator: Authenticator, publicBaseURL: String?, connections: ConnectionPolicy, widget: WidgetSocket? = nil
    ) -> HTTPServerBuilder {
        connections.http1WebSocketUpgrade { request, _, _ in
            // A website visitor's socket (`WidgetSocket`) is upgraded on its own terms.
            if let widget, let answer = await widget.shouldUpgrade(request) { return answer }
            guard let target = request.path, let url = URLComponents(string: target), url.path == path else { return .dontUpgrade }
            var token =
                request.headerFields[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
                ?? url.queryItems?.first { $0.name == "token" }?.value
            var byCookie = false
            if token == nil, let cookie = SessionCookie.token(in: request.headerFields) {
                guard SameOrigin.allows(origin: request.headerFields[.origin], authority: request.authority, publicBaseURL: publicBaseURL) else {
                    return .dontUpgrade
                }
                (token, byCookie) = (cookie, true)
            }
            // Only agents sign in to the page: the admin token is never a cookie.
            guard let token, let actor = try await authenticator.actor(token: token), !byCookie || actor.agentId != nil else { return .dontUpgrade }
            let digest = actor.agentId == nil ? nil : AccessTokens.digest(token)
            // The last log entry the page applied; anything else than a whole number is ignored
            // (the page then starts from now and reloads).
            let after = url.queryItems?.first { $0.name == "after" }?.value.flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
            return .upgrade([:]) { inbound, outbound, _ in
                let (id, outgoing) = await hub.connect(actor, tokenDigest: digest, after: after)
                let writer = Task {
                    for await text in outgoing { try await outbound.write(.text(text)) }
                    // The hub finished the stream: the token stopped working, or the bridge is stopping.
                    if await hub.wasRevoked(id) {
                        try await outbound.close(.policyViolation, reason: "access revoked")
                    } else {
                        try await outbound.close(.goingAway, reason: "the bridge is shutting down")
                    }
                }
                await hub.revalidate(id)
                do {
                    for try await message in inbound.messages(maxSize: 16 << 10) {
                        if case .text(let text) = message { await hub.receive(id, text) }
                    }
                } catch {}
                await hub.disconnect(id)
                _ = await writer.result
            }
        }
    }
}
