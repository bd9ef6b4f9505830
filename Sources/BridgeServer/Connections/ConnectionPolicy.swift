import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// How the server treats connections (`server:` in bridge.yaml): a new connection has
/// `headerReadTimeout` to send its first request's headers, a connection with no request in
/// progress (or whose next request's headers or body stopped arriving) is closed after
/// `idleTimeout`, and at most `maxConnections` are open at once; one more is answered 503 and
/// closed. Half-open connections can no longer pile up.
struct ConnectionPolicy: Sendable {
    var headerReadTimeout: Duration
    var idleTimeout: Duration
    var maxConnections: Int
    /// Told of each connection refused for being over `maxConnections`.
    var onRefused: @Sendable () -> Void = {}

    /// An HTTP/1.1 server with WebSocket upgrades, under this policy.
    func http1WebSocketUpgrade(
        shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        >
    ) -> HTTPServerBuilder {
        // Hummingbird's idle timeout covers every request after the first (its handler is in the
        // pipeline only once a first request was read); `ConnectionGuard` covers the first.
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(idleTimeout: TimeAmount(idleTimeout)))
        return HTTPServerBuilder { responder in
            GuardedChildChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration, shouldUpgrade: shouldUpgrade), policy: self)
        }
    }
}
