import Foundation
import GRDB

/// Where a transfer sends a ticket: an agent, a department's queue, or an agent within a department.
public struct TransferTarget: Sendable, Equatable {
    public var agentId: Int64?
    public var departmentId: Int64?

    public init(agentId: Int64? = nil, departmentId: Int64? = nil) {
        self.agentId = agentId
        self.departmentId = departmentId
    }
}

/// A ticket handed out by automatic distribution.
public struct Distribution: Sendable, Equatable {
    public var ticketId: Int64
    public var agentId: Int64
}

/// A ticket waiting in a queue: its place among the waiting tickets of its department.
public struct QueuedTicket: Sendable, Equatable, Codable {
    public var ticketId: Int64
    public var departmentId: Int64?
    public var position: Int
    public var queuedAt: Date
}

extension Inbox {
    /// "Keep": the acting agent takes an unassigned ticket. Taking one's own ticket again is a no-op;
    /// a ticket someone else has is a conflict.
    public func claim(ticketId: Int64, by actor: Caller) async throws -> TicketSummary {
        guard let agentId = actor.agentId else {
            throw InboxError.forbidden(code: "not_an_agent", message: "only an agent can keep a ticket; use a transfer to assign one")
        }
        let now = clock().ms
        let assigned: Bool = try await database.pool.write { db in
            try Self.authorize(db, actor, ticketId: ticketId, for: .read)
            let row = try Self.assignable(db, ticketId)
            if let current = row["agent_id"] as Int64? {
                if current == agentId { return false }
                let name = try String.fetchOne(db, sql: "SELECT name FROM agents WHERE id = ?", arguments: [current]) ?? "agent \(current)"
                throw InboxError.conflict(code: "already_assigned", message: "ticket \(ticketId) is assigned to \(name)")
            }
            try Self.assign(db, ticketId: ticketId, to: agentId, name: actor.name, now: now)
            try Self.record(db, ticketId: ticketId, "assigned", by: actor.label, ["agentId": String(agentId), "how": "claim"], at: now)
            return true
        }
        if assigned { bus.publish([.ticketAssigned(ticketId: ticketId, agentId: agentId)]) }
        return try await summary(ticketId)
    }

    /// Gives a ticket to an agent, or puts it in a department's queue for distribution (no agent
    /// named). The note is kept as an internal note and in the history.
    public func transfer(ticketId: Int64, to target: TransferTarget, note: String?, by actor: Caller) async throws -> TicketSummary {
        guard target.agentId != nil || target.departmentId != nil else {
            throw InboxError.invalid(code: "no_target", message: "name an agentId, a departmentId, or both")
        }
        if let note, TextRules.length(note) > 4096 { throw InboxError.invalid(code: "note_too_long", message: "a note is at most 4096 characters") }
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        let now = clock().ms
        try await database.pool.write { db in
            try Self.authorize(db, actor, ticketId: ticketId, for: .answer)
            let row = try Self.assignable(db, ticketId)
            if let department = target.departmentId {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [department]) != nil else {
                    throw InboxError.unprocessable(code: "no_such_department", message: "department \(department) does not exist")
                }
                try db.execute(sql: "UPDATE tickets SET department_id = ? WHERE id = ?", arguments: [department, ticketId])
            }
            if let agentId = target.agentId {
                guard let agent = try Row.fetchOne(db, sql: "SELECT name, deactivated_at FROM agents WHERE id = ?", arguments: [agentId]) else {
                    throw InboxError.unprocessable(code: "no_such_agent", message: "agent \(agentId) does not exist")
                }
                guard agent["deactivated_at"] as Int64? == nil else {
                    throw InboxError.unprocessable(code: "agent_deactivated", message: "agent \(agentId) is deactivated")
                }
                let name: String = agent["name"]
                try Self.assign(db, ticketId: ticketId, to: agentId, name: name, now: now)
            } else {
                try db.execute(
                    sql: "UPDATE tickets SET agent_id = NULL, assignee = NULL, queued_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [now, now, ticketId])
            }
            try Self.record(
                db, ticketId: ticketId, "transferred", by: actor.label,
                [
                    "fromAgentId": (row["agent_id"] as Int64?).map(String.init), "agentId": target.agentId.map(String.init),
                    "departmentId": target.departmentId.map(String.init), "note": note,
                ], at: now)
            if let note { try Self.insertNote(db, ticketId: ticketId, text: note, by: actor, at: now) }
        }
        bus.publish([target.agentId.map { .ticketAssigned(ticketId: ticketId, agentId: $0) } ?? .ticketQueued(ticketId: ticketId)])
        return try await summary(ticketId)
    }

    /// Hands queued tickets, oldest first, to available agents: online, distribution not paused,
    /// fewer active tickets than their maximum, in the ticket's department (any agent when it has
    /// none). The agent who last served the contact comes first; then the one with the fewest active
    /// tickets. One write transaction, so concurrent runs never exceed a maximum.
    @discardableResult
    public func distributeQueued(limit: Int = 500) async throws -> [Distribution] {
        let now = clock().ms
        // Nobody to hand out to, or nothing waiting: no write.
        let worthTrying = try await database.pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM agents WHERE availability = 'online' AND distribution_paused = 0 AND deactivated_at IS NULL)
                    AND EXISTS (SELECT 1 FROM tickets WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1)
                """) ?? false
        }
        guard worthTrying else { return [] }
        let handed: [Distribution] = try await database.pool.write { db in
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
                let department: Int64? = ticket["department_id"]
                let eligible = agents.indices.filter { agents[$0].hasRoom && (department.map(agents[$0].departments.contains) ?? true) }
                guard !eligible.isEmpty else { continue }
                let previous = try Int64.fetchOne(db, sql: """
                    SELECT agent_id FROM tickets WHERE contact_id = ? AND id != ? AND agent_id IS NOT NULL ORDER BY id DESC LIMIT 1
                    """, arguments: [ticket["contact_id"] as Int64, ticketId])
                let chosen = eligible.first { agents[$0].id == previous }
                    ?? eligible.min { (agents[$0].active, agents[$0].id) < (agents[$1].active, agents[$1].id) }!
                agents[chosen].active += 1
                try Self.assign(db, ticketId: ticketId, to: agents[chosen].id, name: agents[chosen].name, now: now)
                try Self.record(
                    db, ticketId: ticketId, "assigned", by: Caller.system.label,
                    ["agentId": String(agents[chosen].id), "how": agents[chosen].id == previous ? "automatic, served this contact before" : "automatic"],
                    at: now)
                handed.append(Distribution(ticketId: ticketId, agentId: agents[chosen].id))
            }
            return handed
        }
        bus.publish(handed.map { .ticketAssigned(ticketId: $0.ticketId, agentId: $0.agentId) })
        return handed
    }

    /// Waiting tickets whose customer has not been told their place yet (one read; the notice
    /// itself checks again as it writes).
    public func ticketsAwaitingQueueNotice(limit: Int = 200) async throws -> [Int64] {
        try await database.pool.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT t.id FROM tickets t
                WHERE t.queued_at IS NOT NULL AND t.agent_id IS NULL AND t.status IN ('new', 'open') AND t.screened = 1
                    AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('queue_notice', 'queue_notice_not_sent'))
                ORDER BY t.queued_at, t.id LIMIT ?
                """, arguments: [limit])
        }
    }

    /// Tickets waiting for distribution with their place in their department's queue.
    public func queue() async throws -> [QueuedTicket] {
        try await database.pool.read { db in
            var positions: [Int64?: Int] = [:]
            return try Row.fetchAll(db, sql: """
                SELECT id, department_id, queued_at FROM tickets
                WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1 ORDER BY queued_at, id
                """
            ).map { row in
                let department: Int64? = row["department_id"]
                positions[department, default: 0] += 1
                return QueuedTicket(ticketId: row["id"], departmentId: department, position: positions[department]!, queuedAt: Date(ms: row["queued_at"]))
            }
        }
    }

    /// A queued ticket's place in its department's queue and the expected wait in minutes: the
    /// median time recent tickets of the department waited for automatic distribution (5 minutes
    /// when there is no history yet) times the place. `nil` when the ticket is not waiting.
    static func queuePlace(_ db: Database, ticketId: Int64) throws -> (position: Int, waitMinutes: Int)? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT queued_at, department_id FROM tickets
            WHERE id = ? AND queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open')
            """, arguments: [ticketId])
        else { return nil }
        let queuedAt: Int64 = row["queued_at"]
        let department: Int64? = row["department_id"]
        let ahead = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM tickets
            WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1 AND department_id IS ?
                AND (queued_at < ? OR (queued_at = ? AND id < ?))
            """, arguments: [department, queuedAt, queuedAt, ticketId]) ?? 0
        let waits = try Int64.fetchAll(db, sql: """
            SELECT e.created_at - t.created_at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            WHERE e.kind = 'assigned' AND e.actor = 'system' AND t.department_id IS ? ORDER BY e.id DESC LIMIT 50
            """, arguments: [department]).sorted()
        let median = waits.isEmpty ? 5 * 60_000 : waits[waits.count / 2]
        let minutes = Int((Double(median * Int64(ahead + 1)) / 60_000).rounded(.up))
        return (ahead + 1, max(1, minutes))
    }

    static func assignable(_ db: Database, _ ticketId: Int64) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT status, agent_id, merged_into FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        if row["status"] == TicketStatus.closed.rawValue {
            throw InboxError.conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed")
        }
        return row
    }

    static func assign(_ db: Database, ticketId: Int64, to agentId: Int64, name: String, now: Int64) throws {
        try db.execute(sql: """
            UPDATE tickets SET agent_id = ?, assignee = ?, queued_at = NULL, updated_at = ?,
                status = CASE WHEN status = 'new' THEN 'open' ELSE status END
            WHERE id = ?
            """, arguments: [agentId, name, now, ticketId])
    }

    func summary(_ ticketId: Int64, reader: Int64? = nil) async throws -> TicketSummary {
        guard let ticket = try await ticket(id: ticketId, reader: reader) else { throw InboxError.notFound("ticket \(ticketId)") }
        return ticket
    }
}

private struct AvailableAgent {
    var id: Int64
    var name: String
    var active: Int
    var max: Int
    var departments: Set<Int64>
    var hasRoom: Bool { active < max }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
