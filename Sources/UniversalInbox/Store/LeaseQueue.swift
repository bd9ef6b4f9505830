import Foundation

/// A table of work rows that workers claim under expiring leases: the outbox, follow-up jobs,
/// alerts and outgoing webhook deliveries are all one of these. A row is *ready* when it is live
/// (not finished), due, and its lease is absent or expired; a claim leases ready rows until
/// `now + lease`. A worker that crashes simply lets its leases run out, and the rows are claimed
/// again — nothing releases leases at start, since another process on the same database may
/// hold them.
///
/// This is the description, shared by every database; `LeaseQueue+SQLite.swift` runs it on SQLite
/// (claims are serialised by SQLite's single writer). A PostgreSQL implementation runs the same
/// description with `SELECT ... FOR UPDATE SKIP LOCKED` in the claim.
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
    /// flight or waiting for its retry (each ticket's replies, each webhook's deliveries).
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

/// The lease-queue operations a store offers, on their own. The Inbox's queues (`claimOutbound`,
/// `claimAlerts`, ...) run the same operations inside the transaction that reads what a worker
/// needs; this protocol is what the contract test drives, and what a PostgreSQL store implements
/// second (its claim: `SELECT ... FOR UPDATE SKIP LOCKED`, then the same `UPDATE`).
public protocol LeaseQueueStore: Sendable {
    /// Leases up to `limit` ready rows of `queue`, in its order, for `lease` seconds.
    func claim(_ queue: LeaseQueue, limit: Int, lease: TimeInterval) async throws -> [Lease]
    /// Another attempt at `next`: attempts + 1, `error` kept, the lease cleared. `LeaseLost` if
    /// another worker has claimed the row since.
    func reschedule(_ queue: LeaseQueue, _ lease: Lease, at next: Date, error: String?) async throws
    /// Takes the row out of the queue (deleted, or given its final `status`). `LeaseLost` if
    /// another worker has claimed the row since.
    func complete(_ queue: LeaseQueue, _ lease: Lease, status: String?, error: String?) async throws
}
