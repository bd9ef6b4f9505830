import Foundation

/// A page of a ticket's conversation: long conversations load newest page first, older on demand.
public struct MessagePage: Sendable, Equatable {
    /// In conversation order (oldest first) within the page.
    public var items: [StoredMessage]
    /// Pass back as `before` for the page of older messages; nil on the oldest page.
    public var nextBefore: Int64?

    public init(items: [StoredMessage], nextBefore: Int64?) {
        self.items = items
        self.nextBefore = nextBefore
    }

    /// A `before` that is not a message of the ticket (`TicketQueryStore.messagePage`).
    public static func invalidBefore(_ before: Int64, ticketId: Int64) -> InboxError {
        .unprocessable(code: "invalid_before", message: "message \(before) is not in ticket \(ticketId)")
    }
}

extension Inbox {
    /// Up to `limit` messages of a ticket that come before message `before` in conversation order
    /// (created, then id), or the newest ones without `before`; nil if there is no such ticket.
    public func messagePage(ticketId: Int64, before: Int64?, limit: Int) async throws -> MessagePage? {
        try await stores.ticketQueries.messagePage(ticketId: ticketId, before: before, limit: limit)
    }
}
