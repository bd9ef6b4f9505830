import Foundation
import GRDB

/// `LeaseQueue` on SQLite. Every operation runs inside the caller's write transaction, so a claim
/// and the read of what the worker needs commit together; SQLite's single writer makes the
/// select-then-lease of a claim atomic (PostgreSQL gets the same from `FOR UPDATE SKIP LOCKED`).
extension LeaseQueue {
    /// Whether any row is ready to claim: a read, so an idle worker's poll costs no write.
    func hasReady(_ db: Database, now: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: hasReadySQL, arguments: [now, now]) != nil
    }

    /// Leases up to `limit` ready rows, in the queue's order, until `now + lease`.
    func claim(_ db: Database, limit: Int, lease: TimeInterval, now: Int64) throws -> [Lease] {
        guard limit > 0 else { return [] }
        let until = Self.leaseEnd(now: now, lease: lease)
        let ids = try Int64.fetchAll(db, sql: readySelectSQL, arguments: [now, now, limit])
        guard !ids.isEmpty else { return [] }
        try db.execute(sql: "UPDATE \(table) SET leased_until = ? WHERE id IN (\(Self.list(ids)))", arguments: [until])
        return ids.map { Lease(id: $0, until: until) }
    }

    /// Another attempt at `next`: attempts + 1, the error kept, the lease cleared.
    func reschedule(_ db: Database, _ lease: Lease, at next: Int64, error: String?) throws {
        try db.execute(sql: rescheduleSQL, arguments: [next, error, lease.id, lease.until])
        try checkHeld(db, lease)
    }

    /// Holds the row for `lease` seconds more from `now`; the new lease, or `LeaseLost`.
    func renew(_ db: Database, _ held: Lease, for lease: TimeInterval, now: Int64) throws -> Lease {
        let until = Self.renewedEnd(held, now: now, lease: lease)
        try db.execute(sql: renewSQL, arguments: [until, held.id, held.until])
        try checkHeld(db, held)
        return Lease(id: held.id, until: until)
    }

    /// Takes the row out of the queue: deleted, or (status queues) given its final `status` with
    /// the attempt counted, `error` as its last error, and `columns` set besides (e.g. `sent_at`).
    func complete(
        _ db: Database, _ lease: Lease, status: String? = nil, error: String? = nil, setting columns: KeyValuePairs<String, (any DatabaseValueConvertible)?> = [:]
    ) throws {
        switch finish {
        case .delete:
            try db.execute(sql: completeSQL(setting: []), arguments: [lease.id, lease.until])
        case .status:
            var arguments: [(any DatabaseValueConvertible)?] = [finalStatus(status), error]
            arguments += columns.map(\.value)
            arguments += [lease.id, lease.until]
            try db.execute(sql: completeSQL(setting: columns.map(\.key)), arguments: StatementArguments(arguments))
        }
        try checkHeld(db, lease)
    }

    /// Throws `LeaseLost` when the statement just run changed no row: the lease is not the row's any more.
    private func checkHeld(_ db: Database, _ lease: Lease) throws {
        guard db.changesCount == 1 else { throw LeaseLost(table: table, id: lease.id) }
    }

    static func list(_ ids: [Int64]) -> String { ids.map(String.init).joined(separator: ",") }
}

extension Inbox {
    /// Claims up to `limit` ready rows of `queue` for `lease` seconds and reads what the worker
    /// needs of them (`read` gets the leases in claim order), in one transaction. When nothing is
    /// ready it only reads.
    func claim<Item: Sendable>(
        _ queue: LeaseQueue, limit: Int, lease: TimeInterval,
        read: @escaping @Sendable (Database, _ leases: [Lease], _ now: Date) throws -> [Item]
    ) async throws -> [Item] {
        let now = clock()
        guard try await database.pool.read({ db in try queue.hasReady(db, now: now.ms) }) else { return [] }
        return try await database.pool.write { db in
            let leases = try queue.claim(db, limit: limit, lease: lease, now: now.ms)
            return leases.isEmpty ? [] : try read(db, leases, now)
        }
    }

    /// Rows by id, for reading what claimed rows need: `sql` selects them with `id IN (?)`-style
    /// list `ids` spliced in place of `{ids}` and must return the id as `lease_id`.
    static func rows(_ db: Database, for leases: [Lease], sql: String) throws -> [(Lease, Row)] {
        let rows = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "{ids}", with: LeaseQueue.list(leases.map(\.id))))
        let byId = Dictionary(rows.map { ($0["lease_id"] as Int64, $0) }, uniquingKeysWith: { first, _ in first })
        return leases.compactMap { lease in byId[lease.id].map { (lease, $0) } }
    }
}

/// `LeaseQueueStore` on the SQLite database.
public struct SQLiteLeaseQueueStore: LeaseQueueStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func claim(_ queue: LeaseQueue, limit: Int, lease: TimeInterval, now: Date) async throws -> [Lease] {
        try await database.pool.write { db in try queue.claim(db, limit: limit, lease: lease, now: now.ms) }
    }

    public func reschedule(_ queue: LeaseQueue, _ lease: Lease, at next: Date, error: String?) async throws {
        try await database.pool.write { db in try queue.reschedule(db, lease, at: next.ms, error: error) }
    }

    public func complete(_ queue: LeaseQueue, _ lease: Lease, status: String?, error: String?) async throws {
        try await database.pool.write { db in try queue.complete(db, lease, status: status, error: error) }
    }

    public func renew(_ queue: LeaseQueue, _ held: Lease, for lease: TimeInterval, now: Date) async throws -> Lease {
        try await database.pool.write { db in try queue.renew(db, held, for: lease, now: now.ms) }
    }
}
