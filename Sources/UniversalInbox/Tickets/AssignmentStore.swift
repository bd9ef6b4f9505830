import Foundation
import GRDB

/// Who works on which ticket: claims, transfers, automatic distribution and the queue of tickets
/// waiting for it. One implementation per database (`SQLiteAssignmentStore` below,
/// `PostgresAssignmentStore` in PostgresStore), held to one contract (Tests/StoreTests). Each method
/// is one transaction with no policy: the domain (`Inbox.claim`, ...) validates, passes in who may
/// act (`check`, asked inside the transaction with the ticket's place) and publishes on the bus.
/// Times are passed in.
public protocol AssignmentStore: Sendable {
    /// Gives an unassigned ticket to the acting agent (`assigned` in its history, how `claim`); a
    /// new ticket becomes open and leaves the queue. Returns false, writing nothing, when the ticket
    /// is the agent's already. Refuses, changing nothing: `notFound` (no ticket), what `check`
    /// throws, `ticket_closed`, `already_assigned` (someone else has it).
    func claim(ticketId: Int64, by agent: Caller, at now: Date, check: @escaping TicketCheck) async throws -> Bool

    /// Moves a ticket to `target`'s department (if named) and to its agent, or, with no agent, back
    /// into the queue unassigned. Records `transferred` in the history and keeps a note (already
    /// trimmed, nil for none) as an internal note. Refuses, changing nothing: `notFound`, what
    /// `check` throws, `ticket_closed`, `no_such_department`, `no_such_agent`, `agent_deactivated`.
    func transfer(ticketId: Int64, to target: TransferTarget, note: String?, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws

    /// Hands up to `limit` queued tickets, oldest first, to available agents: online, distribution
    /// not paused, not deactivated, fewer active (new or open) tickets than their maximum, in the
    /// ticket's department (any agent when it has none). The agent who last served the contact
    /// comes first, then the one with the fewest active tickets (lowest id on a tie). Concurrent
    /// runs, in any process, never take an agent past the maximum nor hand a ticket out twice.
    func distribute(limit: Int, at now: Date) async throws -> [Distribution]

    /// Waiting tickets (oldest first) with no `queue_notice` or `queue_notice_not_sent` in their history.
    func ticketsAwaitingQueueNotice(limit: Int) async throws -> [Int64]

    /// Every ticket waiting for distribution, oldest first, with its place in its department's queue.
    func queue() async throws -> [QueuedTicket]

    /// A waiting ticket's place in its department's queue and expected wait; nil when it is not waiting.
    func queuePlace(ticketId: Int64) async throws -> QueuePlace?
}

/// A waiting ticket's place (1 = next) and the expected wait in whole minutes (at least 1): the
/// median time the department's last 50 automatically assigned tickets waited (5 minutes without
/// history) times the place.
public struct QueuePlace: Sendable, Equatable {
    public var position: Int
    public var waitMinutes: Int

    public init(position: Int, waitMinutes: Int) {
        self.position = position
        self.waitMinutes = waitMinutes
    }

    /// The expected wait from the recent waits (ms, any order) and the place.
    public static func wait(recentWaits: [Int64], position: Int) -> Int {
        let waits = recentWaits.sorted()
        let median = waits.isEmpty ? 5 * 60_000 : waits[waits.count / 2]
        return max(1, Int((Double(median * Int64(position)) / 60_000).rounded(.up)))
    }
}

extension InboxError {
    public static func alreadyAssigned(ticketId: Int64, to name: String) -> InboxError {
        .conflict(code: "already_assigned", message: "ticket \(ticketId) is assigned to \(name)")
    }

    public static func noSuchAgent(_ id: Int64) -> InboxError {
        .unprocessable(code: "no_such_agent", message: "agent \(id) does not exist")
    }

    /// A transfer to a deactivated agent (unprocessable, unlike changing a deactivated agent: a conflict).
    public static func transferToDeactivated(_ id: Int64) -> InboxError {
        .unprocessable(code: "agent_deactivated", message: "agent \(id) is deactivated")
    }

    /// A closed ticket's assignment does not change.
    public static func closedTicketAssignment(_ ticketId: Int64) -> InboxError {
        .conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed")
    }
}

/// `AssignmentStore` on SQLite. One writer at a time, so a claim or a distribution run sees every
/// assignment committed before it and nothing changes under it.
public struct SQLiteAssignmentStore: AssignmentStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func claim(ticketId: Int64, by agent: Caller, at now: Date, check: @escaping TicketCheck) async throws -> Bool {
        guard let agentId = agent.agentId else { throw InboxError.forbidden(code: "not_an_agent", message: "only an agent can keep a ticket") }
        return try await database.pool.write { db in
            let row = try Self.checked(db, ticketId, check)
            if let current = row["agent_id"] as Int64? {
                if current == agentId { return false }
                let name = try String.fetchOne(db, sql: "SELECT name FROM agents WHERE id = ?", arguments: [current]) ?? "agent \(current)"
                throw InboxError.alreadyAssigned(ticketId: ticketId, to: name)
            }
            try Inbox.assign(db, ticketId: ticketId, to: agentId, name: agent.name, now: now.ms)
            try Inbox.record(db, ticketId: ticketId, "assigned", by: agent.label, ["agentId": String(agentId), "how": "claim"], at: now.ms)
            return true
        }
    }

    public func transfer(ticketId: Int64, to target: TransferTarget, note: String?, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let now = now.ms
        try await database.pool.write { db in
            let row = try Self.checked(db, ticketId, check)
            if let department = target.departmentId {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [department]) != nil else {
                    throw InboxError.noSuchDepartment(department)
                }
                try db.execute(sql: "UPDATE tickets SET department_id = ? WHERE id = ?", arguments: [department, ticketId])
            }
            if let agentId = target.agentId {
                guard let agent = try Row.fetchOne(db, sql: "SELECT name, deactivated_at FROM agents WHERE id = ?", arguments: [agentId]) else {
                    throw InboxError.noSuchAgent(agentId)
                }
                guard agent["deactivated_at"] as Int64? == nil else { throw InboxError.transferToDeactivated(agentId) }
                try Inbox.assign(db, ticketId: ticketId, to: agentId, name: agent["name"], now: now)
            } else {
                try db.execute(
                    sql: "UPDATE tickets SET agent_id = NULL, assignee = NULL, queued_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [now, now, ticketId])
            }
            try Inbox.record(
                db, ticketId: ticketId, "transferred", by: actor.label,
                [
                    "fromAgentId": (row["agent_id"] as Int64?).map(String.init), "agentId": target.agentId.map(String.init),
                    "departmentId": target.departmentId.map(String.init), "note": note,
                ], at: now)
            if let note { try SQLiteTicketStore.insertNote(db, ticketId: ticketId, text: note, agentId: actor.agentId, author: actor.name, at: now) }
        }
    }

    public func distribute(limit: Int, at now: Date) async throws -> [Distribution] {
        let now = now.ms
        // Nobody to hand out to, or nothing waiting: no write.
        let worthTrying = try await database.pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM agents WHERE availability = 'online' AND distribution_paused = 0 AND deactivated_at IS NULL)
                    AND EXISTS (SELECT 1 FROM tickets WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1)
                """) ?? false
        }
        guard worthTrying else { return [] }
        return try await database.pool.write { db in
            var agents = try Row.fetchAll(db, sql: """
                SELECT a.id, a.name, a.max_tickets,
                    (SELECT count(*) FROM tickets t WHERE t.agent_id = a.id AND t.status IN ('new', 'open')) AS active
                FROM agents a WHERE a.availability = 'online' AND a.distribution_paused = 0 AND a.deactivated_at IS NULL
                """
            ).map { row in
                AvailableAgent(
                    id: row["id"], name: row["name"], active: row["active"], max: row["max_tickets"],
                    departments: Set(try Int64.fetchAll(db, sql: "SELECT department_id FROM department_members WHERE agent_id = ?", arguments: [row["id"] as Int64])))
            }
            guard agents.contains(where: \.hasRoom) else { return [] }
            let queued = try Row.fetchAll(db, sql: """
                SELECT id, contact_id, department_id FROM tickets
                WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1
                ORDER BY queued_at, id LIMIT ?
                """, arguments: [limit])
            var handed: [Distribution] = []
            for ticket in queued {
                let ticketId: Int64 = ticket["id"]
                let previous = try Int64.fetchOne(db, sql: """
                    SELECT agent_id FROM tickets WHERE contact_id = ? AND id != ? AND agent_id IS NOT NULL ORDER BY id DESC LIMIT 1
                    """, arguments: [ticket["contact_id"] as Int64, ticketId])
                guard let chosen = AvailableAgent.choose(from: &agents, department: ticket["department_id"], previous: previous) else { continue }
                try Inbox.assign(db, ticketId: ticketId, to: chosen.agent.id, name: chosen.agent.name, now: now)
                try Inbox.record(db, ticketId: ticketId, "assigned", by: Caller.system.label, ["agentId": String(chosen.agent.id), "how": chosen.how], at: now)
                handed.append(Distribution(ticketId: ticketId, agentId: chosen.agent.id))
            }
            return handed
        }
    }

    public func ticketsAwaitingQueueNotice(limit: Int) async throws -> [Int64] {
        try await database.pool.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT t.id FROM tickets t
                WHERE t.queued_at IS NOT NULL AND t.agent_id IS NULL AND t.status IN ('new', 'open') AND t.screened = 1
                    AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('queue_notice', 'queue_notice_not_sent'))
                ORDER BY t.queued_at, t.id LIMIT ?
                """, arguments: [limit])
        }
    }

    public func queue() async throws -> [QueuedTicket] {
        try await database.pool.read { db in
            QueuedTicket.numbered(try Row.fetchAll(db, sql: """
                SELECT id, department_id, queued_at FROM tickets
                WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1 ORDER BY queued_at, id
                """
            ).map { ($0["id"], $0["department_id"], $0["queued_at"]) })
        }
    }

    public func queuePlace(ticketId: Int64) async throws -> QueuePlace? {
        try await database.pool.read { db in try Inbox.queuePlace(db, ticketId: ticketId).map { QueuePlace(position: $0.position, waitMinutes: $0.waitMinutes) } }
    }

    /// The ticket's row, once `check` allows the caller on its place and it is not closed.
    private static func checked(_ db: Database, _ ticketId: Int64, _ check: TicketCheck) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT agent_id, department_id FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        try check(ticketId, [TicketPlace(agentId: row["agent_id"], departmentId: row["department_id"])])
        return try Inbox.assignable(db, ticketId)
    }
}

extension QueuedTicket {
    /// Waiting tickets (id, department, queued at in ms; oldest first) numbered within their department.
    public static func numbered(_ rows: [(id: Int64, departmentId: Int64?, queuedAt: Int64)]) -> [QueuedTicket] {
        var positions: [Int64?: Int] = [:]
        return rows.map { row in
            positions[row.departmentId, default: 0] += 1
            return QueuedTicket(ticketId: row.id, departmentId: row.departmentId, position: positions[row.departmentId]!, queuedAt: Date(ms: row.queuedAt))
        }
    }
}

/// An agent distribution may hand tickets to, with the active tickets counted so far in the run.
public struct AvailableAgent: Sendable {
    public var id: Int64
    public var name: String
    public var active: Int
    public var max: Int
    public var departments: Set<Int64>
    var hasRoom: Bool { active < max }

    public init(id: Int64, name: String, active: Int, max: Int, departments: Set<Int64>) {
        self.id = id
        self.name = name
        self.active = active
        self.max = max
        self.departments = departments
    }

    /// The agent a ticket of `department` goes to (counted as one more active ticket), and how it
    /// was chosen for the history; nil when nobody eligible has room. The one who last served the
    /// contact (`previous`) first, then the fewest active tickets, then the lowest id.
    public static func choose(from agents: inout [AvailableAgent], department: Int64?, previous: Int64?) -> (agent: AvailableAgent, how: String)? {
        let eligible = agents.indices.filter { agents[$0].hasRoom && (department.map(agents[$0].departments.contains) ?? true) }
        guard !eligible.isEmpty else { return nil }
        let chosen = eligible.first { agents[$0].id == previous }
            ?? eligible.min { (agents[$0].active, agents[$0].id) < (agents[$1].active, agents[$1].id) }!
        agents[chosen].active += 1
        return (agents[chosen], agents[chosen].id == previous ? "automatic, served this contact before" : "automatic")
    }
}

extension Inbox {
    /// A queued ticket's place in its department's queue and the expected wait in minutes
    /// (`QueuePlace`), inside the caller's SQLite transaction. `nil` when the ticket is not waiting.
    static func queuePlace(_ db: Database, ticketId: Int64) throws -> (position: Int, waitMinutes: Int)? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT queued_at, department_id FROM tickets
            WHERE id = ? AND queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open')
            """, arguments: [ticketId])
        else { return nil }
        let queuedAt: Int64 = row["queued_at"]
        let department: Int64? = row["department_id"]
        // `= ?` rather than `IS ?` when there is a department: `tickets_department` holds only the
        // tickets that have one (v40), which `IS ?` could not use.
        let inDepartment = department == nil ? "department_id IS NULL" : "department_id = ?"
        let departmentArguments = StatementArguments(department.map { [$0] } ?? [])
        let ahead = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM tickets
            WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1 AND \(inDepartment)
                AND (queued_at < ? OR (queued_at = ? AND id < ?))
            """, arguments: departmentArguments + [queuedAt, queuedAt, ticketId]) ?? 0
        let waits = try Int64.fetchAll(db, sql: """
            SELECT e.created_at - t.created_at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            WHERE e.kind = 'assigned' AND e.actor = 'system' AND t.\(inDepartment) ORDER BY e.id DESC LIMIT 50
            """, arguments: departmentArguments)
        return (ahead + 1, QueuePlace.wait(recentWaits: waits, position: ahead + 1))
    }

    /// The ticket's row (status, agent, merged into) for a change of assignment inside the caller's
    /// SQLite transaction: `notFound` without one, `ticket_closed` for a closed one.
    static func assignable(_ db: Database, _ ticketId: Int64) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT status, agent_id, merged_into FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        if row["status"] == TicketStatus.closed.rawValue {
            throw InboxError.closedTicketAssignment(ticketId)
        }
        return row
    }

    /// Gives a ticket to an agent inside the caller's SQLite transaction: out of the queue, and a new ticket becomes open.
    static func assign(_ db: Database, ticketId: Int64, to agentId: Int64, name: String, now: Int64) throws {
        try db.execute(sql: """
            UPDATE tickets SET agent_id = ?, assignee = ?, queued_at = NULL, updated_at = ?,
                status = CASE WHEN status = 'new' THEN 'open' ELSE status END
            WHERE id = ?
            """, arguments: [agentId, name, now, ticketId])
    }
}
