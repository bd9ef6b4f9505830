import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging

/// Upgrades `GET /api/v1/live` to a WebSocket for an authenticated agent: `Authorization: Bearer`,
/// or `?token=` for browsers (which cannot set headers on a WebSocket). A request that is not an
/// upgrade, or has no valid token, goes on to the REST route, which answers with a JSON error.
enum LiveSocket {
    static let path = "/api/v1/live"

    static func upgrade(hub: LiveHub, authenticator: Authenticator, connections: ConnectionPolicy) -> HTTPServerBuilder {
        connections.http1WebSocketUpgrade { request, _, _ in
            guard let target = request.path, let url = URLComponents(string: target), url.path == path else { return .dontUpgrade }
            let token =
                request.headerFields[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
                ?? url.queryItems?.first { $0.name == "token" }?.value
            guard let token, let actor = try await authenticator.actor(token: token) else { return .dontUpgrade }
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
