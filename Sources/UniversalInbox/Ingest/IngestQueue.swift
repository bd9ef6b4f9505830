import ChannelKit
import Foundation

/// Group commit for webhooks: requests that arrive while a group is being written wait and go
/// together in the next one (`IngestStore.file`, one transaction), which the store takes when it is
/// ready to write (on PostgreSQL, once it holds the event log's lock). Every caller returns only after
/// its events are committed, so an acknowledged webhook is durable, at thousands of webhooks per
/// second. One webhook that cannot be stored fails alone.
actor IngestQueue {
    private struct Pending {
        var webhook: WebhookEvents
        var continuation: CheckedContinuation<IngestResult, any Error>
    }

    private let store: any IngestStore
    /// The queue runs on a dispatch queue of its own, and the store files each group there
    /// (`IngestStore.file` runs on its caller's executor; SQLite's writes on the calling thread):
    /// taking a group, writing it and answering its callers never wait behind the HTTP work on
    /// Swift's shared pool. With both on that pool, each group's turn went writer, pool, writer,
    /// and the machine stood idle a sixth of a wrk run.
    nonisolated let executor = SerialQueueExecutor(label: "bridge.ingest")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private let bus: InboxEventBus
    private let clock: @Sendable () -> Date
    private var pending: [Pending] = []
    /// The group the store took (`take`) and is filing.
    private var taken: [Pending] = []
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
            var results = await store.file { await self.take() }
            if taken.isEmpty {
                // A store that never took its group (a defect) must not leave its callers waiting.
                _ = take()
                results = []
            }
            let group = taken
            taken = []
            var published: [InboxEvent] = []
            for (index, item) in group.enumerated() {
                let result = index < results.count ? results[index] : .failure(GroupNotAnswered())
                item.continuation.resume(with: result)
                if case .success(let r) = result { published += r.events }
            }
            bus.publish(published)
        }
        draining = false
    }

    /// Webhooks waiting for a group (for tests that wait until some have arrived).
    var waitingCount: Int { pending.count }

    /// Hands the store every webhook waiting now, as one group. (A store that took twice, a defect,
    /// would leave nobody waiting: the second group's callers join `taken` and are answered too.)
    private func take() -> IngestGroup {
        let group = pending
        taken += group
        pending.removeAll(keepingCapacity: true)
        return IngestGroup(webhooks: group.map(\.webhook), now: clock())
    }

    /// The store answered for fewer webhooks than it took.
    struct GroupNotAnswered: Error {}
}
