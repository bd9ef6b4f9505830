import Foundation
import GRDB

/// The access policy for customer data: every route that reads or changes a ticket, a message,
/// an attachment or a contact asks `Inbox.authorize(_:_:_:)` (lists and search filter with
/// `Caller.visibility()`, the live feed with `Caller.may`). Settings are owners' and admins' alone
/// (`Caller.managesSettings`).
///
/// Only restricted agents see less than everything: `departmentsOnly` agents reach the tickets of
/// their departments and their own, `answerAssignedOnly` agents answer only their own. A contact
/// is reached through their tickets: readable when one of their tickets is, changeable when one
/// is answerable, and their whole history (a history link) only when every ticket is readable.

/// What an actor wants to do.
public enum TicketAccessLevel: Sendable {
    /// See it and its messages, notes and history.
    case read
    /// Reply, change it, assign it.
    case answer
}

/// What an actor wants to reach.
public enum Guarded: Sendable, Equatable {
    case ticket(Int64)
    case message(Int64)
    /// Through the message it belongs to.
    case attachment(Int64)
    /// The customer: through any one of their tickets.
    case contact(Int64)
    /// Everything about the customer at once (a history link shows every ticket): through all of them.
    case contactHistory(Int64)
}

extension Caller {
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
    /// Refuses with `notFound` or `forbidden` unless `actor` may reach `target` at `level`.
    public func authorize(_ actor: Caller, _ level: TicketAccessLevel, _ target: Guarded) async throws {
        try await database.pool.read { db in try Self.authorize(db, actor, level, target) }
    }

    static func authorize(_ db: Database, _ actor: Caller, _ level: TicketAccessLevel, _ target: Guarded) throws {
        switch target {
        case .ticket(let id):
            try authorize(db, actor, ticketId: id, for: level)
        case .message(let id):
            guard let ticket = try Int64.fetchOne(db, sql: "SELECT ticket_id FROM messages WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("message \(id)")
            }
            try authorize(db, actor, ticketId: ticket, for: level)
        case .attachment(let id):
            guard let ticket = try Int64.fetchOne(db, sql: """
                SELECT m.ticket_id FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = ?
                """, arguments: [id])
            else { throw InboxError.notFound("attachment \(id)") }
            try authorize(db, actor, ticketId: ticket, for: level)
        case .contact(let id), .contactHistory(let id):
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [id]) != nil else {
                throw InboxError.notFound("contact \(id)")
            }
            guard actor.departmentsOnly || (level == .answer && actor.answerAssignedOnly) else { return }
            let rows = try Row.fetchAll(db, sql: "SELECT agent_id, department_id FROM tickets WHERE contact_id = ?", arguments: [id])
            let tickets = rows.map { actor.may(level, assignedTo: $0["agent_id"], department: $0["department_id"]) }
            let allowed = target == .contactHistory(id) ? !tickets.isEmpty && tickets.allSatisfy { $0 } : tickets.contains(true)
            guard allowed else {
                // Name the rule that refused: a ticket the actor cannot even read is another
                // department's; one it reads but may not answer is someone else's (answerAssignedOnly).
                let outsideDepartments = zip(rows, tickets).contains { row, ok in
                    !ok && !actor.may(.read, assignedTo: row["agent_id"], department: row["department_id"])
                }
                guard target == .contactHistory(id), !tickets.isEmpty else {
                    throw InboxError.forbidden(
                        code: level == .answer && actor.answerAssignedOnly && !outsideDepartments ? "not_assigned_to_you" : "not_your_department",
                        message: "contact \(id) has no ticket you may \(level == .read ? "read" : "answer")")
                }
                throw outsideDepartments
                    ? InboxError.forbidden(code: "not_your_department", message: "contact \(id) has tickets in departments you are not in")
                    : InboxError.forbidden(
                        code: "not_assigned_to_you", message: "you may answer only tickets assigned to you; contact \(id) has tickets that are not")
            }
        }
    }

    static func authorize(_ db: Database, _ actor: Caller, ticketId: Int64, for level: TicketAccessLevel) throws {
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
