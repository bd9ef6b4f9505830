import ChannelKit
import Foundation
import GRDB

/// Group commit for webhooks: requests that arrive while a transaction is being written wait and go
/// together in the next one. Every caller returns only after its events are committed, so an
/// acknowledged webhook is durable, at thousands of webhooks per second. One webhook that cannot be
/// stored fails alone (`commit(_:to:now:)`).
actor IngestQueue {
    private struct Pending {
        var webhook: Webhook
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
            pending.append(Pending(webhook: Webhook(account: account, events: events, unreadable: unreadable), continuation: continuation))
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
            let results = await Self.commit(batch.map(\.webhook), to: pool, now: clock().ms)
            var published: [InboxEvent] = []
            for (item, result) in zip(batch, results) {
                item.continuation.resume(with: result)
                if case .success(let r) = result { published += r.events }
            }
            bus.publish(published)
        }
        draining = false
    }

    /// One webhook's part of a batch.
    struct Webhook: Sendable {
        var account: ChannelAccountRef
        var events: [InboundEvent]
        var unreadable: [UnreadableEvent]
    }

    /// Writes a batch in one transaction and returns each webhook's result. When the transaction
    /// fails, the batch goes again with each webhook in its own savepoint, so one that cannot be
    /// stored fails alone and the others commit. Savepoints are not the usual path: SQLite copies
    /// every page a savepoint changes to its sub-journal first, which at 64 webhooks a batch was most
    /// of the writer's system calls (16 page writes a webhook instead of 3).
    static func commit(_ batch: [Webhook], to pool: DatabasePool, now: Int64) async -> [Result<IngestResult, any Error>] {
        do {
            return try await pool.write { db in
                try batch.map { webhook -> Result<IngestResult, any Error> in .success(try write(webhook, db: db, now: now)) }
            }
        } catch {
            do {
                return try await pool.write { db in
                    batch.map { webhook in
                        Result {
                            var result = IngestResult()
                            try db.inSavepoint {
                                result = try write(webhook, db: db, now: now)
                                return .commit
                            }
                            return result
                        }
                    }
                }
            } catch {
                return Array(repeating: .failure(error), count: batch.count)
            }
        }
    }

    private static func write(_ webhook: Webhook, db: Database, now: Int64) throws -> IngestResult {
        let writer = IngestWriter(db: db, account: webhook.account, now: now)
        var result = try writer.ingest(webhook.events)
        result.unreadable = try writer.keep(webhook.unreadable)
        return result
    }
}
