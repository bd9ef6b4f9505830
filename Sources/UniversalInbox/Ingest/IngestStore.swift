import ChannelKit
import Foundation
import GRDB

/// One webhook's part of a group that `IngestStore.file` writes together.
public struct WebhookEvents: Sendable {
    public var account: ChannelAccountRef
    public var events: [InboundEvent]
    public var unreadable: [UnreadableEvent]

    public init(account: ChannelAccountRef, events: [InboundEvent], unreadable: [UnreadableEvent] = []) {
        self.account = account
        self.events = events
        self.unreadable = unreadable
    }
}

/// Where ingest files webhooks' events: dedupe on the platform's event id, find or create the contact
/// and identity, route to the contact's open ticket, append, queue follow-up jobs, apply receipts and
/// keep unreadable events. One implementation per database (`SQLiteIngestStore` below,
/// `PostgresIngestStore` in PostgresStore), held to one contract (Tests/StoreTests). Group commit
/// (which webhooks go together, acknowledging each after its commit, publishing) is the domain's
/// (`IngestQueue`).
public protocol IngestStore: Sendable {
    /// Files a group of webhooks' events in one transaction at `now`, and answers each webhook's
    /// result in order: how many events were new (`stored`), seen before on the account
    /// (`duplicates`, which change nothing), kept as unreadable, and what happened (`events`, to
    /// publish once committed). A webhook that cannot be stored fails alone and leaves nothing,
    /// not even its events' dedupe rows, so the platform's redelivery is stored once the cause is gone.
    ///
    /// The group is handed over by `take`, which the store calls exactly once, when it is ready to
    /// write: on PostgreSQL once its transaction holds the event log's lock, so the webhooks that
    /// arrived while another process held it go in this group too (with several processes on one
    /// database the lock is where their groups wait, and a group formed before the wait was as
    /// small as one process's share of the traffic); on SQLite at once. `take` also answers the
    /// time the group is filed at.
    ///
    /// It runs on its caller's executor (`nonisolated(nonsending)`), as `take` does, which
    /// `IngestQueue` keeps off Swift's shared pool; the SQLite store writes there without leaving
    /// the thread.
    nonisolated(nonsending) func file(taking take: nonisolated(nonsending) @Sendable () async -> IngestGroup) async -> [Result<IngestResult, any Error>]

    /// Kept unreadable events, newest first, at most `limit`, with ids below `before` when given
    /// (`UnreadableEvents.swift` has the SQLite implementation).
    func unreadableEvents(limit: Int, before: Int64?) async throws -> [UnreadableEventRecord]
}

/// The webhooks an ingest group files together, and when.
public struct IngestGroup: Sendable {
    public var webhooks: [WebhookEvents]
    public var now: Date

    public init(webhooks: [WebhookEvents], now: Date) {
        self.webhooks = webhooks
        self.now = now
    }
}

extension IngestStore {
    /// Files a group formed beforehand (the store's tests, the writer benchmark), on the caller's
    /// executor as `file(taking:)` does.
    nonisolated(nonsending) public func file(_ group: [WebhookEvents], now: Date) async -> [Result<IngestResult, any Error>] {
        await file { IngestGroup(webhooks: group, now: now) }
    }
}

/// `IngestStore` on SQLite (the SQL is `IngestWriter`'s).
public struct SQLiteIngestStore: IngestStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    /// Writes the group on the calling thread, with GRDB's synchronous write (which blocks it for the
    /// length of the write): `IngestQueue` calls it on its own dispatch queue, so the group goes into
    /// the writer and its answers come back with no hop between threads.
    nonisolated(nonsending) public func file(taking take: nonisolated(nonsending) @Sendable () async -> IngestGroup) async -> [Result<IngestResult, any Error>] {
        let taken = await take()
        return Self.file(taken.webhooks, now: taken.now.ms, in: database.pool)
    }

    /// A group in one transaction. When the transaction fails, the group goes again with each
    /// webhook in its own savepoint, so one that cannot be stored fails alone and the others commit.
    /// Savepoints are not the usual path: SQLite copies every page a savepoint changes to its
    /// sub-journal first, which at 64 webhooks a group was most of the writer's system calls (16 page
    /// writes a webhook instead of 3).
    private static func file(_ group: [WebhookEvents], now: Int64, in pool: DatabasePool) -> [Result<IngestResult, any Error>] {
        do {
            return try pool.write { db in
                try group.map { webhook -> Result<IngestResult, any Error> in .success(try write(webhook, db: db, now: now)) }
            }
        } catch {
            do {
                return try pool.write { db in
                    group.map { webhook in
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
                return Array(repeating: .failure(error), count: group.count)
            }
        }
    }

    private static func write(_ webhook: WebhookEvents, db: Database, now: Int64) throws -> IngestResult {
        let writer = IngestWriter(db: db, account: webhook.account, now: now)
        var result = try writer.ingest(webhook.events)
        result.unreadable = try writer.keep(webhook.unreadable)
        return result
    }
}
