import Foundation
import GRDB

/// `LeaseQueue` on SQLite. Every operation runs inside the caller's write transaction, so a claim
/// and the read of what the worker needs commit together; SQLite's single writer makes the
/// select-then-lease of a claim atomic (PostgreSQL gets the same from `FOR UPDATE SKIP LOCKED`).
extension LeaseQueue {
    /// Whether any row is ready to claim: a read, so an idle worker's poll costs no write.
    func hasReady(_ db: Database, now: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) q WHERE \(readySQL("q")) LIMIT 1", arguments: [now, now]) != nil
    }

    /// Leases up to `limit` ready rows, in the queue's order, until `now + lease`.
    func claim(_ db: Database, limit: Int, lease: TimeInterval, now: Int64) throws -> [Lease] {
        guard limit > 0 else { return [] }
        // At least 1 ms, so that each claim stores a larger `leased_until` than the one before.
        let until = now + max(1, Int64((lease * 1000).rounded(.up)))
        var sql = "SELECT q.id FROM \(table) q WHERE \(readySQL("q"))"
        if let group = oneAtATimePer {
            let live = liveSQL("p").map { " AND \($0)" } ?? ""
            sql += " AND q.id = (SELECT min(p.id) FROM \(table) p WHERE p.\(group) = q.\(group)\(live))"
        }
        sql += " ORDER BY \(order.map { "q.\($0)" }.joined(separator: ", ")) LIMIT ?"
        let ids = try Int64.fetchAll(db, sql: sql, arguments: [now, now, limit])
        guard !ids.isEmpty else { return [] }
        try db.execute(sql: "UPDATE \(table) SET leased_until = ? WHERE id IN (\(Self.list(ids)))", arguments: [until])
        return ids.map { Lease(id: $0, until: until) }
    }

    /// Another attempt at `next`: attempts + 1, the error kept, the lease cleared.
    func reschedule(_ db: Database, _ lease: Lease, at next: Int64, error: String?) throws {
        try db.execute(
            sql: "UPDATE \(table) SET attempts = attempts + 1, \(dueColumn) = ?, leased_until = NULL, last_error = ? WHERE id = ? AND leased_until = ?",
            arguments: [next, error, lease.id, lease.until])
        try checkHeld(db, lease)
    }

    /// Takes the row out of the queue: deleted, or (status queues) given its final `status` with
    /// the attempt counted, `error` as its last error, and `columns` set besides (e.g. `sent_at`).
    func complete(
        _ db: Database, _ lease: Lease, status: String? = nil, error: String? = nil, setting columns: KeyValuePairs<String, (any DatabaseValueConvertible)?> = [:]
    ) throws {
        switch finish {
        case .delete:
            try db.execute(sql: "DELETE FROM \(table) WHERE id = ? AND leased_until = ?", arguments: [lease.id, lease.until])
        case .status(let pending):
            let status = status ?? "done"
            precondition(status != pending, "complete a \(table) row with a final status; reschedule keeps it pending")
            var assignments = "status = ?, attempts = attempts + 1, leased_until = NULL, last_error = ?"
            var arguments: [(any DatabaseValueConvertible)?] = [status, error]
            for (column, value) in columns {
                assignments += ", \(column) = ?"
                arguments.append(value)
            }
            arguments += [lease.id, lease.until]
            try db.execute(sql: "UPDATE \(table) SET \(assignments) WHERE id = ? AND leased_until = ?", arguments: StatementArguments(arguments))
        }
        try checkHeld(db, lease)
    }

    /// Throws `LeaseLost` when the statement just run changed no row: the lease is not the row's any more.
    private func checkHeld(_ db: Database, _ lease: Lease) throws {
        guard db.changesCount == 1 else { throw LeaseLost(table: table, id: lease.id) }
    }

    /// Ready: live, due (first argument: now) and not leased, or leased until no later than now (second).
    private func readySQL(_ alias: String) -> String {
        let due = "\(alias).\(dueColumn) <= ? AND (\(alias).leased_until IS NULL OR \(alias).leased_until <= ?)"
        return liveSQL(alias).map { "\($0) AND \(due)" } ?? due
    }

    /// The condition for a row still in the queue, if finished rows stay in the table.
    private func liveSQL(_ alias: String) -> String? {
        guard case .status(let pending) = finish else { return nil }
        return "\(alias).status = '\(pending.replacingOccurrences(of: "'", with: "''"))'"
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

/// `LeaseQueueStore` on the SQLite database, with the Inbox's clock.
public struct SQLiteLeaseQueueStore: LeaseQueueStore {
    let database: AppDatabase
    let clock: @Sendable () -> Date

    public init(database: AppDatabase, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.clock = clock
    }

    public func claim(_ queue: LeaseQueue, limit: Int, lease: TimeInterval) async throws -> [Lease] {
        let now = clock().ms
        return try await database.pool.write { db in try queue.claim(db, limit: limit, lease: lease, now: now) }
    }

    public func reschedule(_ queue: LeaseQueue, _ lease: Lease, at next: Date, error: String?) async throws {
        try await database.pool.write { db in try queue.reschedule(db, lease, at: next.ms, error: error) }
    }

    public func complete(_ queue: LeaseQueue, _ lease: Lease, status: String?, error: String?) async throws {
        try await database.pool.write { db in try queue.complete(db, lease, status: status, error: error) }
    }
}
