import Foundation

/// A table of work rows that workers claim under expiring leases: the outbox, follow-up jobs,
/// alerts and outgoing webhook deliveries are all one of these. A row is *ready* when it is live
/// (not finished), due, and its lease is absent or expired; a claim leases ready rows until
/// `now + lease`. A worker that crashes simply lets its leases run out, and the rows are claimed
/// again — nothing releases leases at start, since another process on the same database may
/// hold them.
///
/// This is the description and the SQL, shared by every database; `LeaseQueue+SQLite.swift` runs it
/// on SQLite (claims are serialised by SQLite's single writer), `PostgresStore/PostgresLeaseQueue.swift`
/// on PostgreSQL (the claim locks the rows it takes with `FOR UPDATE SKIP LOCKED`, so processes
/// claiming at once pass each other's rows by).
///
/// **The lease is the fence.** A claim stores `leased_until` and hands it back in the `Lease`;
/// reschedule and complete only act `WHERE id = ? AND leased_until = <that value>`. A row can
/// only be claimed once its lease has passed, so each claim stores a larger `leased_until` than
/// the one before: a holder whose lease expired and whose row another worker has claimed since
/// changes nothing (`LeaseLost`), while one whose lease expired unclaimed still finishes its row.
public struct LeaseQueue: Sendable {
    /// How a finished row leaves the queue.
    public enum Finish: Sendable {
        /// The row is deleted (what it did is recorded elsewhere, e.g. on the message).
        case delete
        /// The row stays as history: live while `status` is `pending`, then given its final status.
        case status(pending: String)
    }

    public let table: String
    /// When the row is due (ms since 1970).
    public let dueColumn: String
    public let finish: Finish
    /// Claim order, e.g. `["id"]`.
    public let order: [String]
    /// Rows sharing this column's value go strictly in id order, one at a time: only the oldest
    /// live row of each group is ever claimable, so a later one waits while the oldest is in
    /// flight or waiting for its retry (each ticket's replies, each webhook's deliveries). The
    /// oldest live row leads its group until it is finished, whoever holds or locks it, so this
    /// holds across processes too; it needs a group's ids to be given in commit order (SQLite's
    /// single writer does; on PostgreSQL a writer adding to a group that other processes also add
    /// to must take a lock on the group, e.g. its ticket's row, before taking the id).
    public let oneAtATimePer: String?

    public init(table: String, dueColumn: String = "next_attempt_at", finish: Finish, order: [String] = ["id"], oneAtATimePer: String? = nil) {
        self.table = table
        self.dueColumn = dueColumn
        self.finish = finish
        self.order = order
        self.oneAtATimePer = oneAtATimePer
    }
}

/// A claimed row: its id and the lease's expiry, which is also the fencing token that a report
/// on the row must present.
public struct Lease: Sendable, Hashable {
    public let id: Int64
    /// `leased_until` as stored, ms since 1970.
    public let until: Int64

    public init(id: Int64, until: Int64) {
        self.id = id
        self.until = until
    }
}

/// A report on a row whose lease ran out and which another worker has claimed since: nothing was
/// changed, the row is that worker's now.
public struct LeaseLost: Error, Sendable, Equatable, CustomStringConvertible {
    public let table: String
    public let id: Int64

    public init(table: String, id: Int64) {
        self.table = table
        self.id = id
    }

    public var description: String { "lease lost: \(table) row \(id) was claimed again after its lease ran out; its new holder reports it" }
}

extension LeaseQueue {
    /// Replies leave in order per ticket, one in flight at a time; a sent or failed one is deleted
    /// (the message row keeps its status).
    public static let outbox = LeaseQueue(table: "outbox", finish: .delete, oneAtATimePer: "ticket_id")
    /// Media downloads and profile look-ups after ingest, oldest due first.
    public static let jobs = LeaseQueue(table: "jobs", finish: .delete, order: ["next_attempt_at", "id"])
    /// Agents' alerts; kept with their final status (sent, suppressed, unreached, failed).
    public static let alerts = LeaseQueue(table: "notifications", dueColumn: "due_at", finish: .status(pending: "pending"))
    /// Outgoing webhook deliveries, in the event log's order per webhook; kept as delivered or failed.
    public static let webhookDeliveries = LeaseQueue(table: "webhook_deliveries", finish: .status(pending: "pending"), oneAtATimePer: "webhook_id")
}

/// The lease-queue operations a store offers, each in a transaction of its own. The Inbox's queues
/// (`claimOutbound`, `claimAlerts`, ...) run the same operations inside the transaction that reads
/// what a worker needs; this protocol is what the contract test
/// (`Tests/StoreTests/Contract/LeaseQueueContractTests.swift`) drives on both databases.
public protocol LeaseQueueStore: Sendable {
    /// Leases up to `limit` ready rows of `queue` at `now`, in its order, for `lease` seconds.
    func claim(_ queue: LeaseQueue, limit: Int, lease: TimeInterval, now: Date) async throws -> [Lease]
    /// Another attempt at `next`: attempts + 1, `error` kept, the lease cleared. `LeaseLost` if
    /// another worker has claimed the row since.
    func reschedule(_ queue: LeaseQueue, _ lease: Lease, at next: Date, error: String?) async throws
    /// Takes the row out of the queue (deleted, or given its final `status`). `LeaseLost` if
    /// another worker has claimed the row since.
    func complete(_ queue: LeaseQueue, _ lease: Lease, status: String?, error: String?) async throws
    /// Holds the row for another `lease` seconds from `now` and returns the new lease (the old one
    /// is no longer the row's). `LeaseLost` if another worker has claimed the row since: it must
    /// not act on the row any more (e.g. send it).
    func renew(_ queue: LeaseQueue, _ lease: Lease, for lease: TimeInterval, now: Date) async throws -> Lease
}

// MARK: - The SQL, written once for both databases

/// Statements with `?` placeholders, bound in the order they appear (PostgreSQL numbers them).
extension LeaseQueue {
    /// `leased_until` for a claim at `now`: at least 1 ms later, so that each claim of a row stores
    /// a larger value than the one before (the fence).
    package static func leaseEnd(now: Int64, lease: TimeInterval) -> Int64 {
        now + max(1, Int64((lease * 1000).rounded(.up)))
    }

    /// One row if any is ready. Arguments: now, now. It leaves the group rule out (a cheap
    /// check): a group's later row waiting behind its oldest counts, and the claim then takes nothing.
    package var hasReadySQL: String { "SELECT 1 FROM \(table) q WHERE \(readySQL("q")) LIMIT 1" }

    /// The ids of up to `limit` ready rows, in claim order, as `q`. Arguments: now, now, limit.
    package var readySelectSQL: String {
        var sql = "SELECT q.id FROM \(table) q WHERE \(readySQL("q"))"
        if let group = oneAtATimePer {
            let live = liveSQL("p").map { " AND \($0)" } ?? ""
            sql += " AND q.id = (SELECT min(p.id) FROM \(table) p WHERE p.\(group) = q.\(group)\(live))"
        }
        return sql + " ORDER BY \(order.map { "q.\($0)" }.joined(separator: ", ")) LIMIT ?"
    }

    /// A renewed lease's end: `lease` from `now`, and always later than `held`'s (the fence).
    package static func renewedEnd(_ held: Lease, now: Int64, lease: TimeInterval) -> Int64 {
        max(leaseEnd(now: now, lease: lease), held.until + 1)
    }

    /// Moves a held lease's end. Arguments: new leased until, id, leased until.
    package var renewSQL: String { "UPDATE \(table) SET leased_until = ? WHERE id = ? AND leased_until = ?" }

    /// Another attempt. Arguments: next, error, id, leased until.
    package var rescheduleSQL: String {
        "UPDATE \(table) SET attempts = attempts + 1, \(dueColumn) = ?, leased_until = NULL, last_error = ? WHERE id = ? AND leased_until = ?"
    }

    /// Takes the row out of the queue. Arguments: for `.delete` id, leased until; for `.status`
    /// status, error, one value per column of `columns`, id, leased until.
    package func completeSQL(setting columns: [String]) -> String {
        switch finish {
        case .delete:
            return "DELETE FROM \(table) WHERE id = ? AND leased_until = ?"
        case .status:
            let assignments = ["status = ?", "attempts = attempts + 1", "leased_until = NULL", "last_error = ?"] + columns.map { "\($0) = ?" }
            return "UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE id = ? AND leased_until = ?"
        }
    }

    /// The final status a completion stores (`done` unless given); never the pending one.
    package func finalStatus(_ status: String?) -> String {
        let status = status ?? "done"
        if case .status(let pending) = finish {
            precondition(status != pending, "complete a \(table) row with a final status; reschedule keeps it pending")
        }
        return status
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
}
