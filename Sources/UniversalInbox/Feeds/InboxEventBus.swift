import Foundation
import Synchronization

/// Fans committed inbox events out to in-process subscribers (dispatcher, workers, live sessions).
public final class InboxEventBus: Sendable {
    private struct Subscribers {
        var streams: [UUID: AsyncStream<InboxEvent>.Continuation] = [:]
        var listeners: [UUID: @Sendable ([InboxEvent]) -> Void] = [:]
    }

    private let subscribers = Mutex(Subscribers())

    public init() {}

    /// A stream of every event published from now on. It ends when the subscriber's task stops iterating.
    public func subscribe() -> AsyncStream<InboxEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: InboxEvent.self, bufferingPolicy: .bufferingNewest(1024))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.streams.removeValue(forKey: id) }
        }
        subscribers.withLock { $0.streams[id] = continuation }
        return stream
    }

    /// Calls `listener` with each published batch, on the publisher's thread, until the returned
    /// `Listening` is cancelled or released. For reactions that only wake someone (a worker's
    /// `WakeSignal`): a stream per worker cost a task switch per worker per event, most of them to
    /// find the event was not theirs (~5% of the bridge's CPU under ingest). `listener` must not block.
    public func listen(_ listener: @escaping @Sendable ([InboxEvent]) -> Void) -> Listening {
        let id = UUID()
        subscribers.withLock { $0.listeners[id] = listener }
        return Listening { [weak self] in _ = self?.subscribers.withLock { $0.listeners.removeValue(forKey: id) } }
    }

    public func publish(_ events: [InboxEvent]) {
        guard !events.isEmpty else { return }
        let (streams, listeners) = subscribers.withLock { (Array($0.streams.values), Array($0.listeners.values)) }
        for listener in listeners { listener(events) }
        for target in streams {
            for event in events { target.yield(event) }
        }
    }

    /// A `listen` registration: `cancel()` (or releasing it) stops the calls.
    public final class Listening: Sendable {
        private let stop: Mutex<(@Sendable () -> Void)?>

        init(stop: @escaping @Sendable () -> Void) { self.stop = Mutex(stop) }

        public func cancel() { stop.withLock { stop in defer { stop = nil }; return stop }?() }

        deinit { cancel() }
    }
}
