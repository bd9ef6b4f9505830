import Foundation

/// A filtered page of the ticket list, newest activity first.
public struct TicketQuery: Sendable, Equatable {
    public var status: TicketStatus?
    /// Only tickets still being worked: new, open or pending (the inbox's Mine, Unassigned and All).
    public var activeOnly = false
    public var channel: String?
    /// Words that must appear in one of the ticket's messages (any language; 3+ characters use the index).
    public var text: String?
    /// Part of the contact's name, or a channel user id or phone number of theirs.
    public var contact: String?
    /// Assigned to this agent; `unassigned` for tickets nobody has.
    public var agentId: Int64?
    public var unassigned: Bool = false
    public var departmentId: Int64?
    public var tag: String?
    public var priority: TicketPriority?
    /// Custom field values that must match exactly, by key (ticket fields and contact fields).
    public var ticketFields: [String: String] = [:]
    public var contactFields: [String: String] = [:]
    /// Created at or after / before.
    public var createdFrom: Date?
    public var createdBefore: Date?
    public var cursor: String?
    public var limit: Int
    /// Newest activity first, or longest waiting first (not with full-text words).
    public var sort: TicketSort = .newest
    /// Who is asking: limits the list to what they may read and fills `unread`.
    public var actor: Caller?

    public init(
        status: TicketStatus? = nil, channel: String? = nil, text: String? = nil, contact: String? = nil, cursor: String? = nil, limit: Int = 50
    ) {
        self.status = status
        self.channel = channel
        self.text = text
        self.contact = contact
        self.cursor = cursor
        self.limit = limit
    }
}

public struct TicketPage: Sendable, Equatable {
    public var items: [TicketSummary]
    /// Pass back as `cursor` for the next page; `nil` on the last page.
    public var nextCursor: String?
}

/// A search page's cursor: the last listed ticket's matching message, opaque to clients.
enum SearchCursor {
    static func encode(_ messageId: Int64) -> String { Data("s:\(messageId)".utf8).base64EncodedString() }

    static func decode(_ cursor: String) -> Int64? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("s:"), let id = Int64(text.dropFirst(2)), id > 0 else { return nil }
        return id
    }
}

/// Keyset cursor over (updated_at, id), opaque to clients.
enum TicketCursor {
    static func encode(updatedAt: Int64, id: Int64) -> String {
        Data("\(updatedAt):\(id)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String) -> (updatedAt: Int64, id: Int64)? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":")
        guard parts.count == 2, let u = Int64(parts[0]), let i = Int64(parts[1]) else { return nil }
        return (u, i)
    }
}

extension Inbox {
    /// A page of tickets, newest activity first. With search words of 3+ characters (`text`), the
    /// page holds the tickets whose newest matching message is newest, and its cursor continues
    /// from there (`TicketQueryStore.search`); shorter words are scanned for in the newest-first
    /// list. A query over `searchLimits` is refused before anything runs, and the reads run under
    /// its deadline. What the caller may see (`Caller.visibility()`) is decided here.
    public func listTickets(_ query: TicketQuery) async throws -> TicketPage {
        try searchLimits.check(query)
        let terms = SearchLimits.terms(query.text)
        if query.sort == .waiting, !terms.isEmpty {
            throw InboxError.unprocessable(code: "invalid_sort", message: "sort=waiting does not combine with q; search results come newest match first")
        }
        let filter = try Self.filter(query)
        let limit = min(max(query.limit, 1), 200)
        let reader = query.actor?.agentId
        let page: TicketListPage
        if !terms.isEmpty, terms.allSatisfy({ $0.count >= 3 }) {
            let after = try query.cursor.map { cursor in
                guard let id = SearchCursor.decode(cursor) else { throw Self.invalidCursor("") }
                return TicketListPosition.match(messageId: id)
            }
            page = try await stores.ticketQueries.search(filter, terms: terms, after: after, limit: limit, reader: reader, limits: searchLimits)
        } else if query.sort == .waiting {
            let after = try query.cursor.map { cursor in
                switch WaitingCursor.decode(cursor) {
                case .waiting(let since, let id): TicketListPosition.waiting(since: since, id: id)
                case .answered(let updatedAt, let id): TicketListPosition.answered(updatedAt: updatedAt, id: id)
                case nil: throw Self.invalidCursor(" for sort=waiting")
                }
            }
            page = try await stores.ticketQueries.longestWaiting(filter, after: after, limit: limit, reader: reader, limits: searchLimits)
        } else {
            let after = try query.cursor.map { cursor in
                guard let (updatedAt, id) = TicketCursor.decode(cursor) else { throw Self.invalidCursor("") }
                return TicketListPosition.newest(updatedAt: updatedAt, id: id)
            }
            page = try await stores.ticketQueries.newest(filter, containing: terms, after: after, limit: limit, reader: reader, limits: searchLimits)
        }
        return TicketPage(items: page.items, nextCursor: page.next.map(Self.cursor))
    }

    private static func invalidCursor(_ list: String) -> InboxError {
        .unprocessable(code: "invalid_cursor", message: "cursor is not one this server returned\(list)")
    }

    /// The opaque text of a page's end.
    private static func cursor(_ position: TicketListPosition) -> String {
        switch position {
        case .newest(let updatedAt, let id): TicketCursor.encode(updatedAt: updatedAt, id: id)
        case .match(let messageId): SearchCursor.encode(messageId)
        case .waiting(let since, let id): WaitingCursor.encode(.waiting(since: since, id: id))
        case .answered(let updatedAt, let id): WaitingCursor.encode(.answered(updatedAt: updatedAt, id: id))
        }
    }

    /// The query's filters other than words, cursor and order, checked (a tag must be a tag), with
    /// what its actor may see.
    static func filter(_ query: TicketQuery) throws -> TicketFilter {
        var filter = TicketFilter()
        filter.status = query.status
        filter.activeOnly = query.activeOnly
        filter.channel = query.channel
        if let contact = query.contact?.trimmingCharacters(in: .whitespacesAndNewlines), !contact.isEmpty { filter.contact = contact }
        filter.agentId = query.agentId
        filter.unassigned = query.unassigned
        filter.departmentId = query.departmentId
        filter.tag = try query.tag.map(Self.tag)
        filter.priority = query.priority
        filter.ticketFields = query.ticketFields
        filter.contactFields = query.contactFields
        filter.createdFrom = query.createdFrom
        filter.createdBefore = query.createdBefore
        filter.visibility = query.actor?.visibility()
        return filter
    }

    /// A ticket; `reader` (an agent id) fills `unread`.
    public func ticket(id: Int64, reader: Int64? = nil) async throws -> TicketSummary? {
        try await stores.ticketQueries.ticket(id: id, reader: reader)
    }

    /// A contact's tickets, newest first (tickets merged into another are left out: their messages moved).
    public func tickets(ofContact contactId: Int64) async throws -> [Int64] {
        try await stores.ticketQueries.tickets(ofContact: contactId)
    }

    /// A ticket's messages in conversation order, or `nil` if there is no such ticket.
    public func messages(ticketId: Int64) async throws -> [StoredMessage]? {
        try await stores.ticketQueries.messages(ticketId: ticketId)
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await stores.ticketQueries.message(id: id)
    }

    public func attachment(id: Int64) async throws -> AttachmentInfo? {
        try await stores.ticketQueries.attachment(id: id)
    }

    public func contact(id: Int64) async throws -> ContactDetail? {
        try await stores.contactStore.contact(id: id)
    }
}
