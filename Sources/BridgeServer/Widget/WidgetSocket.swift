import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import UniversalInbox
import WebchatChannel

/// The visitor's live WebSocket, `GET /widget/v1/{accountId}/live?token=…&after=SEQ` (browsers
/// cannot set headers on a WebSocket, so the visitor token comes in the query). Server → widget:
/// `hello` (`seq`), then the visitor's feed (`VisitorFeed`) from `after` in `seq` order (`message`),
/// `resync` when `after` is out of reach, and `heartbeat` (`seq`) every `heartbeat` so a widget
/// that hears nothing reconnects. An upgrade without a valid token is refused (an empty 400).
struct WidgetSocket: Sendable {
    let inbox: Inbox
    /// The process's reading of the event log for visitors' feeds.
    let visitorLog: VisitorLog
    let registry: ChannelRegistry
    let sockets: WidgetSockets
    /// Sockets open per visitor (`WidgetThrottle.open`): a token cannot hold the bridge's connections.
    let throttle: WidgetThrottle
    var heartbeat: Duration = .seconds(25)

    static func accountId(inPath path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "widget", parts[2] == "v1", parts[4] == "live", !parts[3].isEmpty else { return nil }
        return String(parts[3])
    }

    func shouldUpgrade(_ request: HTTPRequest) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>? {
        guard let target = request.path, let url = URLComponents(string: target), let accountId = Self.accountId(inPath: url.path) else { return nil }
        guard let adapter = registry.adapter(kind: .webchat, id: accountId) as? WebchatAdapter,
            !registry.isDisabled(adapter.account.key),
            let token = url.queryItems?.first(where: { $0.name == "token" })?.value,
            let visitorId = VisitorToken.visitorId(in: token, secret: adapter.configuration.visitorSecret)
        else { return .dontUpgrade }
        let after = url.queryItems?.first { $0.name == "after" }?.value.flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
        let feed = VisitorFeed(log: visitorLog, visitor: .init(account: adapter.account.key, id: visitorId))
        let typing = VisitorTyping(inbox: inbox)
        let account = adapter.account.key
        let (inbox, sockets, heartbeat, throttle) = (inbox, sockets, heartbeat, throttle)
        return .upgrade([:]) { inbound, outbound, _ in
            guard throttle.open(visitorId: visitorId) else {
                try? await outbound.close(.policyViolation, reason: "too many sockets open for this visitor")
                return
            }
            defer { throttle.close(visitorId: visitorId) }
            let id = UUID()
            let writer = Task {
                let waker = feed.follow()
                var cursor: Int64
                if let after { cursor = after } else { cursor = try await inbox.eventLogHead() }
                try await outbound.write(.text(Self.json(["type": "hello", "seq": "\(cursor)"])))
                var lastBeat = ContinuousClock.now
                var othersTyping = false
                var queue: VisitorQueue?
                var queueSent = false
                while !Task.isCancelled {
                    let page = try await feed.read(after: cursor)
                    if page.resync { try await outbound.write(.text(Self.json(["type": "resync", "seq": "\(page.next)"]))) }
                    for event in page.events { try await outbound.write(.text(Self.json(event))) }
                    cursor = page.next
                    if let state = try await feed.chatState(waker, typing: typing) {
                        if state.othersTyping != othersTyping {
                            othersTyping = state.othersTyping
                            try await outbound.write(.text(Self.json(VisitorEvent(type: "typing", typing: othersTyping))))
                        }
                        if state.queue != queue || !queueSent {
                            (queue, queueSent) = (state.queue, true)
                            try await outbound.write(.text(Self.json(VisitorEvent(type: "queue", queue: queue))))
                        }
                    }
                    if ContinuousClock.now - lastBeat >= heartbeat {
                        try await outbound.write(.text(Self.json(["type": "heartbeat", "seq": "\(cursor)"])))
                        lastBeat = .now
                    }
                    await waker.wait()
                }
            }
            guard await sockets.add(id, stop: { writer.cancel() }) else {
                writer.cancel()
                try? await outbound.close(.goingAway, reason: "the bridge is shutting down")
                return
            }
            let closer = Task {
                _ = await writer.result
                // The bridge is stopping (or the feed failed): tell the widget, which reconnects.
                try? await outbound.close(.goingAway, reason: "the bridge is shutting down")
            }
            do {
                // Widget → bridge: `{"type":"typing"}` while the visitor types; one a second is
                // enough (it lapses after seconds), more are dropped unread by the store.
                var lastTyping: ContinuousClock.Instant?
                for try await message in inbound.messages(maxSize: 4 << 10) {
                    guard case .text(let text) = message, let frame = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)),
                        frame["type"] == "typing"
                    else { continue }
                    if let lastTyping, ContinuousClock.now - lastTyping < .seconds(1) { continue }
                    lastTyping = .now
                    _ = try? await typing.typing(account: account, visitorId: visitorId)
                }
            } catch {}
            writer.cancel()
            await sockets.remove(id)
            _ = await closer.result
        }
    }

    static func json(_ value: some Encodable) -> String {
        (try? JSONResponse.encoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The open visitor sockets, closed when the bridge shuts down (a socket's loop would otherwise
/// keep the server waiting).
actor WidgetSockets: Service {
    private var stops: [UUID: @Sendable () -> Void] = [:]
    private var stopping = false

    /// Registers a socket's stop; false once the bridge is stopping.
    func add(_ id: UUID, stop: @escaping @Sendable () -> Void) -> Bool {
        guard !stopping else { return false }
        stops[id] = stop
        return true
    }

    func remove(_ id: UUID) { stops.removeValue(forKey: id) }

    func run() async throws {
        try? await gracefulShutdown()
        stopping = true
        for stop in stops.values { stop() }
        stops.removeAll()
    }
}
