import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `LeaseQueue` on PostgreSQL, for several bridge processes on one database. Every operation runs
/// on the caller's connection inside the caller's transaction (BEGIN and COMMIT are the caller's),
/// so a claim and the read of what the worker needs commit together, and runs the SQL that
/// `LeaseQueue.swift` writes once for both databases.
///
/// **The claim is one statement**: the ready rows are selected and locked with
/// `FOR UPDATE SKIP LOCKED`, then leased. Two processes claiming at once never get the same row:
/// a row another claim has locked is passed by, not waited for, and a row leased by a claim that
/// committed after this statement's snapshot is re-checked under its lock and dropped (its lease
/// is live).
///
/// **One at a time per group** holds across processes because only a group's oldest *live* row
/// is a candidate, not its oldest unlocked or unleased one: while process A holds that row (its
/// claim still open and the row locked, or committed and the lease running) it is still the
/// oldest live row, so process B's claim skips it and finds nothing else of the group. The next
/// row becomes a candidate only once the finish of the oldest has committed, and a finish needs
/// the lease (the fence below).
///
/// **The lease is the fence**, as on SQLite: reschedule and complete act only
/// `WHERE id = $ AND leased_until = $` and throw `LeaseLost` when no row matched.
extension LeaseQueue {
    /// Whether any row is ready to claim (a group's later row counts too: `hasReadySQL`): a read,
    /// so an idle worker's poll takes no locks.
    public func hasReady(on connection: PostgresConnection, now: Int64, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(PostgresQuery.shared(hasReadySQL, [now, now]), logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Claims up to `limit` ready rows and reads what their worker needs (`read`, given the leases)
    /// in the same transaction. A plain read comes first, so an idle worker's poll takes no locks.
    func claim<Item: Sendable>(
        with client: PostgresClient, limit: Int, lease: TimeInterval, now: Date, logger: Logger,
        reading read: (PostgresConnection, [Lease]) async throws -> [Item]
    ) async throws -> [Item] {
        guard try await client.withConnection({ try await hasReady(on: $0, now: now.ms, logger: logger) }) else { return [] }
        return try await client.transaction(logger: logger) { connection in
            let leases = try await claim(on: connection, limit: limit, lease: lease, now: now.ms, logger: logger)
            guard !leases.isEmpty else { return [] }
            return try await read(connection, leases)
        }
    }

    /// Leases up to `limit` ready rows, in the queue's order, until `now + lease`.
    public func claim(on connection: PostgresConnection, limit: Int, lease: TimeInterval, now: Int64, logger: Logger) async throws -> [Lease] {
        guard limit > 0 else { return [] }
        let until = Self.leaseEnd(now: now, lease: lease)
        // MATERIALIZED: the locking select runs once, so LIMIT bounds the whole claim.
        let returned = ["id"] + order.filter { $0 != "id" }
        let sql = """
            WITH ready AS MATERIALIZED (\(readySelectSQL) FOR UPDATE OF q SKIP LOCKED),
            claimed AS (UPDATE \(table) t SET leased_until = ? FROM ready WHERE t.id = ready.id RETURNING \(returned.map { "t.\($0)" }.joined(separator: ", ")))
            SELECT id FROM claimed ORDER BY \(order.joined(separator: ", "))
            """
        let rows = try await connection.query(PostgresQuery.shared(sql, [now, now, Int64(limit), until]), logger: logger)
        var leases: [Lease] = []
        for try await id in rows.decode(Int64.self) { leases.append(Lease(id: id, until: until)) }
        return leases
    }

    /// Another attempt at `next`: attempts + 1, the error kept, the lease cleared.
    public func reschedule(on connection: PostgresConnection, _ lease: Lease, at next: Int64, error: String?, logger: Logger) async throws {
        try await fenced(on: connection, lease, rescheduleSQL, [next, error, lease.id, lease.until], logger: logger)
    }

    /// Holds the row for `lease` seconds more from `now`; the new lease, or `LeaseLost`.
    public func renew(on connection: PostgresConnection, _ held: Lease, for lease: TimeInterval, now: Int64, logger: Logger) async throws -> Lease {
        let until = Self.renewedEnd(held, now: now, lease: lease)
        try await fenced(on: connection, held, renewSQL, [until, held.id, held.until], logger: logger)
        return Lease(id: held.id, until: until)
    }

    /// Takes the row out of the queue: deleted, or (status queues) given its final `status` with
    /// the attempt counted, `error` as its last error, and `columns` set besides (e.g. `sent_at`).
    public func complete(
        on connection: PostgresConnection, _ lease: Lease, status: String? = nil, error: String? = nil,
        setting columns: KeyValuePairs<String, Int64?> = [:], logger: Logger
    ) async throws {
        switch finish {
        case .delete:
            try await fenced(on: connection, lease, completeSQL(setting: []), [lease.id, lease.until], logger: logger)
        case .status:
            let arguments: [(any PostgresDynamicTypeEncodable)?] = [finalStatus(status), error] + columns.map(\.value) + [lease.id, lease.until]
            try await fenced(on: connection, lease, completeSQL(setting: columns.map(\.key)), arguments, logger: logger)
        }
    }

    /// Runs a statement on the leased row; `LeaseLost` when it matched none (the lease is not the
    /// row's any more).
    private func fenced(on connection: PostgresConnection, _ lease: Lease, _ sql: String, _ arguments: [(any PostgresDynamicTypeEncodable)?], logger: Logger) async throws {
        let rows = try await connection.query(PostgresQuery.shared(sql + " RETURNING id", arguments), logger: logger)
        var changed = 0
        for try await _ in rows { changed += 1 }
        guard changed == 1 else { throw LeaseLost(table: table, id: lease.id) }
    }
}

/// `LeaseQueueStore` on PostgreSQL: each operation in a transaction of its own, on a connection
/// from the client's pool.
public struct PostgresLeaseQueueStore: LeaseQueueStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func claim(_ queue: LeaseQueue, limit: Int, lease: TimeInterval, now: Date) async throws -> [Lease] {
        try await client.transaction(logger: logger) { connection in
            try await queue.claim(on: connection, limit: limit, lease: lease, now: now.ms, logger: logger)
        }
    }

    public func reschedule(_ queue: LeaseQueue, _ lease: Lease, at next: Date, error: String?) async throws {
        try await client.transaction(logger: logger) { connection in
            try await queue.reschedule(on: connection, lease, at: next.ms, error: error, logger: logger)
        }
    }

    public func complete(_ queue: LeaseQueue, _ lease: Lease, status: String?, error: String?) async throws {
        try await client.transaction(logger: logger) { connection in
            try await queue.complete(on: connection, lease, status: status, error: error, logger: logger)
        }
    }

    public func renew(_ queue: LeaseQueue, _ held: Lease, for lease: TimeInterval, now: Date) async throws -> Lease {
        try await client.transaction(logger: logger) { connection in
            try await queue.renew(on: connection, held, for: lease, now: now.ms, logger: logger)
        }
    }
}
