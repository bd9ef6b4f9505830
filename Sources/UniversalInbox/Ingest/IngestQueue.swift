import ChannelKit
import Foundation
import GRDB

/// Group commit for webhooks: requests that arrive while a transaction is being written wait and go
/// together in the next one, each in its own savepoint. Every caller returns only after its events
/// are committed, so an acknowledged webhook is durable, at thousands of webhooks per second.
actor IngestQueue {
    private struct Pending {
        var account: ChannelAccountRef
        var events: [InboundEvent]
        var unreadable: [UnreadableEvent]
        var continuation: CheckedContinuation<IngestResult, any Error>
    }

    private let pool: DatabasePool
    private let bus: InboxEventBus
    private let clock: @Sendable () -> Date
    private var pending: [Pending] = []
    private var draining = false

    init(pool: DatabasePool, bus: InboxEventBus, clock: @escaping @Sendable () -> Date) {
        self.pool = pool
        self.bus = bus
        self.clock = clock
    }

    func submit(_ events: [InboundEvent], unreadable: [UnreadableEvent], from account: ChannelAccountRef) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(account: account, events: events, unreadable: unreadable, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let work = batch.map { ($0.account, $0.events, $0.unreadable) }
            let now = clock().ms
            let results: [Result<IngestResult, any Error>]
            do {
                results = try await pool.write { db in
                    work.map { account, events, unreadable in
                        Result {
                            var result = IngestResult()
                            try db.inSavepoint {
                                let writer = IngestWriter(db: db, account: account, now: now)
                                result = try writer.ingest(events)
                                result.unreadable = try writer.keep(unreadable)
                                return .commit
                            }
                            return result
                        }
                    }
                }
            } catch {
                results = Array(repeating: .failure(error), count: batch.count)
            }
            var published: [InboxEvent] = []
            for (item, result) in zip(batch, results) {
                item.continuation.resume(with: result)
                if case .success(let r) = result { published += r.events }
            }
            bus.publish(published)
        }
        draining = false
    }
}
