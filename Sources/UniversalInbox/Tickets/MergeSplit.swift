import Foundation

extension Inbox {
    /// Merges `others` into `survivor`: their messages, notes and tags move over (messages stay in
    /// time order), and each merged ticket is closed pointing at the survivor. Only tickets of the
    /// same contact merge (link the contacts first); all or nothing.
    public func merge(_ others: [Int64], into survivor: Int64, by actor: Caller) async throws -> TicketSummary {
        let others = Array(Set(others)).sorted()
        // Access first: who may not touch the ticket learns nothing more about the request.
        try await authorize(actor, .answer, .ticket(survivor))
        guard !others.isEmpty else { throw InboxError.invalid(code: "nothing_to_merge", message: "name the tickets to merge in ticketIds") }
        guard !others.contains(survivor) else { throw InboxError.unprocessable(code: "merge_into_itself", message: "a ticket cannot be merged into itself") }
        try await stores.ticketStore.merge(others, into: survivor, by: actor, at: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) })
        bus.publish(others.map { .ticketStatusChanged(ticketId: $0, status: .closed) })
        return try await summary(survivor)
    }

    /// Moves `messageIds` of a ticket to a new ticket of the same contact, which opens and joins the
    /// queue; at least one message must stay. Returns the new ticket.
    public func split(ticketId: Int64, messageIds: [Int64], by actor: Caller) async throws -> TicketSummary {
        let chosen = Array(Set(messageIds)).sorted()
        guard !chosen.isEmpty else { throw InboxError.invalid(code: "nothing_to_split", message: "name the messages to move in messageIds") }
        let newId = try await stores.ticketStore.split(
            ticketId: ticketId, messageIds: chosen, by: actor, at: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) })
        bus.publish([.ticketQueued(ticketId: newId)])
        return try await summary(newId)
    }
}

extension InboxError {
    public static func alreadyMerged(_ ticketId: Int64, into survivor: Int64) -> InboxError {
        .conflict(code: "already_merged", message: "ticket \(ticketId) was merged into \(survivor)")
    }

    public static func differentContacts(_ ticketId: Int64) -> InboxError {
        .conflict(code: "different_contacts", message: "ticket \(ticketId) is another contact's; link the contacts first if they are the same customer")
    }

    public static func notInTicket(message: Int64, ticketId: Int64) -> InboxError {
        .unprocessable(code: "not_in_ticket", message: "message \(message) is not in ticket \(ticketId)")
    }

    public static func nothingLeft(ticketId: Int64) -> InboxError {
        .unprocessable(code: "nothing_left", message: "at least one message must stay in ticket \(ticketId)")
    }
}
