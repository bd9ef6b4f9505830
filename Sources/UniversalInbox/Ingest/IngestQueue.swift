import ChannelKit
import Foundation

/// Group commit for webhooks: requests that arrive while a group is being written wait and go
/// together in the next one (`IngestStore.file`, one transaction). Every caller returns only after
/// its events are committed, so an acknowledged webhook is durable, at thousands of webhooks per
/// second. One webhook that cannot be stored fails alone.
actor IngestQueue {
    private struct Pending {
        var webhook: WebhookEvents
        var continuation: CheckedContinuation<IngestResult, any Error>
    }

    private let store: any IngestStore
    private let bus: InboxEventBus
    private let clock: @Sendable () -> Date
    private var pending: [Pending] = []
    private var draining = false

    init(store: any IngestStore, bus: InboxEventBus, clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.bus = bus
        self.clock = clock
    }

    func submit(_ events: [InboundEvent], unreadable: [UnreadableEvent], from account: ChannelAccountRef) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(webhook: WebhookEvents(account: account, events: events, unreadable: unreadable), continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let group = pending
            pending.removeAll(keepingCapacity: true)
            let results = await store.file(group.map(\.webhook), now: clock())
            var published: [InboxEvent] = []
            for (item, result) in zip(group, results) {
                item.continuation.resume(with: result)
                if case .success(let r) = result { published += r.events }
            }
            bus.publish(published)
        }
        draining = false
    }
}
