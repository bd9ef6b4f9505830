import Foundation
import GRDB

/// What an actor wants to do with a ticket.
public enum TicketAccessLevel: Sendable {
    /// See it and its messages, notes and history.
    case read
    /// Reply, change it, assign it.
    case answer
}

extension Actor {
    /// Whether the actor may act on a ticket assigned to `agentId` in `departmentId`.
    /// Restricted agents see only their departments' tickets (and their own); some may answer only their own.
    public func may(_ level: TicketAccessLevel, assignedTo agentId: Int64?, department departmentId: Int64?) -> Bool {
        let own = agentId != nil && agentId == self.agentId
        if departmentsOnly, !own {
            guard let departmentId, departments.contains(departmentId) else { return false }
        }
        if level == .answer, answerAssignedOnly, !own { return false }
        return true
    }

    /// SQL (over `tickets t`) limiting a list to what the actor may read, with its arguments.
    /// The unary `+` keeps SQLite from answering the OR with two index lookups and a sort of every
    /// visible ticket: an agent's departments hold a good share of the tickets, so walking the
    /// newest-first index and stopping after a page is cheaper.
    func visibility() -> (sql: String, arguments: StatementArguments)? {
        guard departmentsOnly else { return nil }
        let departments = self.departments.isEmpty ? "NULL" : self.departments.map(String.init).joined(separator: ",")
        return ("(+t.agent_id = ? OR +t.department_id IN (\(departments)))", [agentId ?? -1])
    }
}

extension Inbox {
    /// Refuses with `notFound` or `forbidden` unless `actor` may act on the ticket at `level`.
    public func authorize(_ actor: Actor, ticketId: Int64, for level: TicketAccessLevel) async throws {
        try await database.pool.read { db in try Self.authorize(db, actor, ticketId: ticketId, for: level) }
    }

    static func authorize(_ db: Database, _ actor: Actor, ticketId: Int64, for level: TicketAccessLevel) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT agent_id, department_id FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        guard actor.may(level, assignedTo: row["agent_id"], department: row["department_id"]) else {
            throw level == .read
                ? InboxError.forbidden(code: "not_your_department", message: "ticket \(ticketId) belongs to a department you are not in")
                : InboxError.forbidden(code: "not_assigned_to_you", message: "you may answer only tickets assigned to you; ticket \(ticketId) is not")
        }
    }
}
