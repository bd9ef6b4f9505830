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

    /// What a list shows the actor: their own tickets and their departments' for a
    /// `departmentsOnly` agent, everything (nil) for everyone else.
    func visibility() -> TicketVisibility? {
        guard departmentsOnly else { return nil }
        return TicketVisibility(agentId: agentId, departments: departments.sorted())
    }
}

extension Caller {
    /// The policy on what a target is reached through: the places (assignee, department) of the
    /// ticket it belongs to, or of every ticket of a contact. Refuses with `forbidden`, naming the
    /// rule that refused; allows silently.
    public func check(_ level: TicketAccessLevel, _ target: Guarded, places: [TicketPlace]) throws {
        switch target {
        case .ticket(let id), .message(let id), .attachment(let id):
            guard let place = places.first else { throw InboxError.notFound("\(target.noun) \(id)") }
            guard may(level, assignedTo: place.agentId, department: place.departmentId) else {
                let ticket = target.noun == "ticket" ? "ticket \(id)" : "the ticket of \(target.noun) \(id)"
                throw level == .read
                    ? InboxError.forbidden(code: "not_your_department", message: "\(ticket) belongs to a department you are not in")
                    : InboxError.forbidden(code: "not_assigned_to_you", message: "you may answer only tickets assigned to you; \(ticket) is not")
            }
        case .contact(let id), .contactHistory(let id):
            guard departmentsOnly || (level == .answer && answerAssignedOnly) else { return }
            let tickets = places.map { may(level, assignedTo: $0.agentId, department: $0.departmentId) }
            let whole = target == .contactHistory(id)
            guard !(whole ? !tickets.isEmpty && tickets.allSatisfy { $0 } : tickets.contains(true)) else { return }
            // Name the rule that refused: a ticket the actor cannot even read is another
            // department's; one it reads but may not answer is someone else's (answerAssignedOnly).
            let outsideDepartments = zip(places, tickets).contains { place, ok in
                !ok && !may(.read, assignedTo: place.agentId, department: place.departmentId)
            }
            guard whole, !tickets.isEmpty else {
                throw InboxError.forbidden(
                    code: level == .answer && answerAssignedOnly && !outsideDepartments ? "not_assigned_to_you" : "not_your_department",
                    message: "contact \(id) has no ticket you may \(level == .read ? "read" : "answer")")
            }
            throw outsideDepartments
                ? InboxError.forbidden(code: "not_your_department", message: "contact \(id) has tickets in departments you are not in")
                : InboxError.forbidden(
                    code: "not_assigned_to_you", message: "you may answer only tickets assigned to you; contact \(id) has tickets that are not")
        }
    }
}

extension Guarded {
    /// What the target is called in a refusal.
    var noun: String {
        switch self {
        case .ticket: "ticket"
        case .message: "message"
        case .attachment: "attachment"
        case .contact, .contactHistory: "contact"
        }
    }

    var id: Int64 {
        switch self {
        case .ticket(let id), .message(let id), .attachment(let id), .contact(let id), .contactHistory(let id): id
        }
    }
}

extension Inbox {
    /// Refuses with `notFound` or `forbidden` unless `actor` may reach `target` at `level`.
    public func authorize(_ actor: Caller, _ level: TicketAccessLevel, _ target: Guarded) async throws {
        guard let places = try await stores.access.places(of: target) else { throw InboxError.notFound("\(target.noun) \(target.id)") }
        try actor.check(level, target, places: places)
    }

    /// The same inside a SQLite transaction, so that the check and the change it guards commit together.
    static func authorize(_ db: Database, _ actor: Caller, _ level: TicketAccessLevel, _ target: Guarded) throws {
        guard let places = try SQLiteAccessStore.places(db, of: target) else { throw InboxError.notFound("\(target.noun) \(target.id)") }
        try actor.check(level, target, places: places)
    }

    static func authorize(_ db: Database, _ actor: Caller, ticketId: Int64, for level: TicketAccessLevel) throws {
        try authorize(db, actor, level, .ticket(ticketId))
    }
}
