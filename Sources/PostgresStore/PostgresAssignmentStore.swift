import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `AssignmentStore` on PostgreSQL, for several bridge processes on one database.
///
/// **Locks, and why they cannot deadlock.** Every transaction here takes the event log's counter
/// first (`appendsToLog`, as every writer of logged rows does), then agent rows before ticket rows,
/// the order `PostgresAgentStore.deactivate` already uses (agent, then its tickets):
/// - a claim locks the ticket (`FOR UPDATE`) and reads who has it: of two agents claiming at once,
///   the second waits, then sees the first one's assignment and gets `already_assigned`;
/// - a transfer to an agent holds the agent `FOR SHARE` (not deactivated under it), then locks the ticket;
/// - distribution locks every available agent `FOR UPDATE` in id order, and only then counts their
///   active tickets (a new statement, so it sees what a run that held the locks before committed):
///   two runs, in any processes, take turns and never push an agent past `max_tickets`. It then
///   takes the queued tickets `FOR UPDATE SKIP LOCKED`, which never waits (a ticket being claimed
///   or transferred is left for the next run), so nobody waits on a ticket while holding one.
public struct PostgresAssignmentStore: AssignmentStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func claim(ticketId: Int64, by agent: Caller, at now: Date, check: @escaping TicketCheck) async throws -> Bool {
        guard let agentId = agent.agentId else { throw InboxError.forbidden(code: "not_an_agent", message: "only an agent can keep a ticket") }
        let logger = logger
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let current = try await Self.lockTicket(ticketId, on: connection, check: check, logger: logger)
            if let current {
                if current == agentId { return false }
                let names = try await connection.query("SELECT name FROM agents WHERE id = \(current)", logger: logger).decode(String.self).all()
                throw InboxError.alreadyAssigned(ticketId: ticketId, to: names.first ?? "agent \(current)")
            }
            try await Self.assign(ticketId, to: agentId, name: agent.name, at: now.ms, on: connection, logger: logger)
            try await PostgresTicketHistory.record(ticketId, "assigned", by: agent.label, ["agentId": String(agentId), "how": "claim"], at: now.ms, on: connection, logger: logger)
            return true
        }
    }

    public func transfer(ticketId: Int64, to target: TransferTarget, note: String?, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let logger = logger
        let now = now.ms
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            // The agent before the ticket (the lock order above); its refusals come after the ticket's.
            var agent: (name: String, deactivated: Bool)?
            if let agentId = target.agentId {
                for try await (name, deactivatedAt) in try await connection.query(
                    "SELECT name, deactivated_at FROM agents WHERE id = \(agentId) FOR SHARE", logger: logger
                ).decode((String, Int64?).self) {
                    agent = (name, deactivatedAt != nil)
                }
            }
            let from = try await Self.lockTicket(ticketId, on: connection, check: check, logger: logger)
            if let department = target.departmentId {
                let found = try await connection.query("SELECT id FROM departments WHERE id = \(department)", logger: logger).decode(Int64.self).all()
                guard !found.isEmpty else { throw InboxError.noSuchDepartment(department) }
                try await connection.query("UPDATE tickets SET department_id = \(department) WHERE id = \(ticketId)", logger: logger)
            }
            if let agentId = target.agentId {
                guard let agent else { throw InboxError.noSuchAgent(agentId) }
                guard !agent.deactivated else { throw InboxError.transferToDeactivated(agentId) }
                try await Self.assign(ticketId, to: agentId, name: agent.name, at: now, on: connection, logger: logger)
            } else {
                try await connection.query(
                    "UPDATE tickets SET agent_id = NULL, assignee = NULL, queued_at = \(now), updated_at = \(now) WHERE id = \(ticketId)", logger: logger)
            }
            try await PostgresTicketHistory.record(
                ticketId, "transferred", by: actor.label,
                [
                    "fromAgentId": from.map(String.init), "agentId": target.agentId.map(String.init),
                    "departmentId": target.departmentId.map(String.init), "note": note,
                ], at: now, on: connection, logger: logger)
            if let note {
                try await connection.query("""
                    INSERT INTO ticket_notes (ticket_id, agent_id, author, text, created_at) VALUES (\(ticketId), \(actor.agentId), \(actor.name), \(note), \(now))
                    """, logger: logger)
            }
        }
    }

    public func distribute(limit: Int, at now: Date) async throws -> [Distribution] {
        let logger = logger
        let now = now.ms
        // Nobody to hand out to, or nothing waiting: no locks.
        let worthTrying = try await client.query("""
            SELECT EXISTS (SELECT 1 FROM agents WHERE availability = 'online' AND distribution_paused = 0 AND deactivated_at IS NULL)
                AND EXISTS (SELECT 1 FROM tickets WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1)
            """, logger: logger).decode(Bool.self).all()
        guard worthTrying.first == true else { return [] }
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let locked = try await connection.query("""
                SELECT id, name, max_tickets FROM agents
                WHERE availability = 'online' AND distribution_paused = 0 AND deactivated_at IS NULL ORDER BY id FOR UPDATE
                """, logger: logger).decode((Int64, String, Int).self).all()
            guard !locked.isEmpty else { return [] }
            let ids = locked.map(\.0)
            // Counted only now that the agents are locked: every run that held them before has committed.
            var active: [Int64: Int] = [:]
            for try await (agentId, count) in try await connection.query("""
                SELECT agent_id, count(*) FROM tickets WHERE agent_id = ANY(\(ids)) AND status IN ('new', 'open') GROUP BY agent_id
                """, logger: logger).decode((Int64, Int).self) {
                active[agentId] = count
            }
            var departments: [Int64: Set<Int64>] = [:]
            for try await (agentId, department) in try await connection.query(
                "SELECT agent_id, department_id FROM department_members WHERE agent_id = ANY(\(ids))", logger: logger
            ).decode((Int64, Int64).self) {
                departments[agentId, default: []].insert(department)
            }
            var agents = locked.map { AvailableAgent(id: $0.0, name: $0.1, active: active[$0.0] ?? 0, max: $0.2, departments: departments[$0.0] ?? []) }
            guard agents.contains(where: { $0.active < $0.max }) else { return [] }
            let queued = try await connection.query("""
                SELECT id, contact_id, department_id FROM tickets
                WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1
                ORDER BY queued_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger).decode((Int64, Int64, Int64?).self).all()
            var handed: [Distribution] = []
            for (ticketId, contactId, department) in queued {
                let previous = try await connection.query("""
                    SELECT agent_id FROM tickets WHERE contact_id = \(contactId) AND id <> \(ticketId) AND agent_id IS NOT NULL ORDER BY id DESC LIMIT 1
                    """, logger: logger).decode(Int64.self).all().first
                guard let chosen = AvailableAgent.choose(from: &agents, department: department, previous: previous) else { continue }
                try await Self.assign(ticketId, to: chosen.agent.id, name: chosen.agent.name, at: now, on: connection, logger: logger)
                try await PostgresTicketHistory.record(
                    ticketId, "assigned", by: Caller.system.label, ["agentId": String(chosen.agent.id), "how": chosen.how], at: now, on: connection, logger: logger)
                handed.append(Distribution(ticketId: ticketId, agentId: chosen.agent.id))
            }
            return handed
        }
    }

    public func ticketsAwaitingQueueNotice(limit: Int) async throws -> [Int64] {
        try await client.query("""
            SELECT t.id FROM tickets t
            WHERE t.queued_at IS NOT NULL AND t.agent_id IS NULL AND t.status IN ('new', 'open') AND t.screened = 1
                AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('queue_notice', 'queue_notice_not_sent'))
            ORDER BY t.queued_at, t.id LIMIT \(limit)
            """, logger: logger).decode(Int64.self).all()
    }

    public func queue() async throws -> [QueuedTicket] {
        let rows = try await client.query("""
            SELECT id, department_id, queued_at FROM tickets
            WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1 ORDER BY queued_at, id
            """, logger: logger).decode((Int64, Int64?, Int64).self).all()
        return QueuedTicket.numbered(rows.map { (id: $0.0, departmentId: $0.1, queuedAt: $0.2) })
    }

    public func queuePlace(ticketId: Int64) async throws -> QueuePlace? {
        try await client.transaction(logger: logger) { connection in
            let waiting = try await connection.query("""
                SELECT queued_at, department_id FROM tickets
                WHERE id = \(ticketId) AND queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open')
                """, logger: logger).decode((Int64, Int64?).self).all()
            guard let (queuedAt, department) = waiting.first else { return nil }
            let ahead = try await connection.query("""
                SELECT count(*) FROM tickets
                WHERE queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open') AND screened = 1
                    AND department_id IS NOT DISTINCT FROM \(department)::bigint
                    AND (queued_at < \(queuedAt) OR (queued_at = \(queuedAt) AND id < \(ticketId)))
                """, logger: logger).decode(Int.self).all().first ?? 0
            let waits = try await connection.query("""
                SELECT e.created_at - t.created_at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                WHERE e.kind = 'assigned' AND e.actor = 'system' AND t.department_id IS NOT DISTINCT FROM \(department)::bigint
                ORDER BY e.id DESC LIMIT 50
                """, logger: logger).decode(Int64.self).all()
            return QueuePlace(position: ahead + 1, waitMinutes: QueuePlace.wait(recentWaits: waits, position: ahead + 1))
        }
    }

    /// Locks the ticket's row and returns its agent, once `check` allows the caller on its place
    /// and it is not closed: `notFound`, what `check` throws, or `ticket_closed` otherwise.
    static func lockTicket(_ ticketId: Int64, on connection: PostgresConnection, check: TicketCheck, logger: Logger) async throws -> Int64? {
        let rows = try await connection.query(
            "SELECT status, agent_id, department_id FROM tickets WHERE id = \(ticketId) FOR UPDATE", logger: logger
        ).decode((String, Int64?, Int64?).self).all()
        guard let (status, agentId, departmentId) = rows.first else { throw InboxError.notFound("ticket \(ticketId)") }
        try check(ticketId, [TicketPlace(agentId: agentId, departmentId: departmentId)])
        if status == TicketStatus.closed.rawValue { throw InboxError.closedTicketAssignment(ticketId) }
        return agentId
    }

    static func assign(_ ticketId: Int64, to agentId: Int64, name: String, at now: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            UPDATE tickets SET agent_id = \(agentId), assignee = \(name), queued_at = NULL, updated_at = \(now),
                status = CASE WHEN status = 'new' THEN 'open' ELSE status END
            WHERE id = \(ticketId)
            """, logger: logger)
    }
}
