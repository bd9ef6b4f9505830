import Foundation
import Synchronization

/// Fans committed inbox events out to in-process subscribers (dispatcher, workers, live sessions).
public final class InboxEventBus: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<InboxEvent>.Continuation]>([:])

    public init() {}

    /// A stream of every event published from now on. It ends when the subscriber's task stops iterating.
    public func subscribe() -> AsyncStream<InboxEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: InboxEvent.self, bufferingPolicy: .bufferingNewest(1024))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    public func publish(_ events: [InboxEvent]) {
        guard !events.isEmpty else { return }
        let targets = subscribers.withLock { Array($0.values) }
        for target in targets {
            for event in events { target.yield(event) }
        }
    }
}
