import BenchmarkSupport
import Foundation
import HummingbirdWSClient
import Logging
import Synchronization

/// An agent's live feed (`/api/v1/live`) on one bridge, keeping every JSON message it receives.
final class LiveSocket: Sendable {
    private let received = Mutex<[String]>([])
    private let writer = Mutex<WebSocketOutboundWriter?>(nil)
    private let task = Mutex<Task<Void, any Error>?>(nil)

    static func open(_ baseURL: String, token: String) async throws -> LiveSocket {
        let socket = LiveSocket()
        let url = baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/live?token=\(token)"
        let task = Task {
            var logger = Logger(label: "cluster-live")
            logger.logLevel = .critical
            _ = try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
                socket.writer.withLock { $0 = outbound }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { socket.received.withLock { $0.append(text) } }
                }
            }
        }
        socket.task.withLock { $0 = task }
        _ = try await socket.next { $0["type"] as? String == "hello" }
        return socket
    }

    /// The first message received that `matches`, waiting for it (a bound for a stuck run, not a timing assertion).
    func next(_ matches: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let messages = received.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            if let found = messages.first(where: matches) { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchmarkError("the live feed did not bring the awaited message")
    }

    func send(_ json: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while writer.withLock({ $0 }) == nil {
            guard ContinuousClock.now < deadline else { throw BenchmarkError("the live socket never opened") }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await writer.withLock { $0 }?.write(.text(json))
    }

    func close() {
        task.withLock { $0 }?.cancel()
    }
}
