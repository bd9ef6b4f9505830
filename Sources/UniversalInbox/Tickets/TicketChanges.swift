import Foundation

/// Changes an agent makes to a ticket in one go; `nil` and empty lists leave things as they are.
public struct TicketChanges: Sendable, Equatable {
    public var status: TicketStatus?
    public var priority: TicketPriority?
    public var resolutionReason: ResolutionReason?
    public var addTags: [String] = []
    public var removeTags: [String] = []
    /// Custom field values by key; `nil` clears a field.
    public var fields: [String: String?] = [:]

    public init(
        status: TicketStatus? = nil, priority: TicketPriority? = nil, resolutionReason: ResolutionReason? = nil, addTags: [String] = [],
        removeTags: [String] = [], fields: [String: String?] = [:]
    ) {
        self.status = status
        self.priority = priority
        self.resolutionReason = resolutionReason
        self.addTags = addTags
        self.removeTags = removeTags
        self.fields = fields
    }

    public var isEmpty: Bool { self == TicketChanges() }
}

/// An internal note on a ticket: agents see it, the customer never does.
public struct TicketNote: Sendable, Equatable, Codable {
    public var id: Int64
    public var ticketId: Int64
    public var agentId: Int64?
    public var author: String
    public var text: String
    public var createdAt: Date

    public init(id: Int64, ticketId: Int64, agentId: Int64?, author: String, text: String, createdAt: Date) {
        self.id = id
        self.ticketId = ticketId
        self.agentId = agentId
        self.author = author
        self.text = text
        self.createdAt = createdAt
    }
}

/// A ticket's change as the store applies it (`TicketStore.update`): checked by the domain
/// (`Inbox.updateTicket`), tags trimmed and lower-cased, field values normalized. `nil` and empty
/// lists leave things as they are.
public struct TicketEdit: Sendable, Equatable {
    public var status: TicketStatus?
    public var priority: TicketPriority?
    public var resolutionReason: ResolutionReason?
    public var addTags: [String]
    public var removeTags: [String]
    /// Ticket fields to set (value normalized) or clear (nil), in key order.
    public var fields: [FieldValueChange]

    public init(
        status: TicketStatus? = nil, priority: TicketPriority? = nil, resolutionReason: ResolutionReason? = nil, addTags: [String] = [],
        removeTags: [String] = [], fields: [FieldValueChange] = []
    ) {
        self.status = status
        self.priority = priority
        self.resolutionReason = resolutionReason
        self.addTags = addTags
        self.removeTags = removeTags
        self.fields = fields
    }
}

/// A custom field's new value, already normalized against its definition; nil clears it.
public struct FieldValueChange: Sendable, Equatable {
    public var field: CustomField
    public var value: String?

    public init(field: CustomField, value: String?) {
        self.field = field
        self.value = value
    }
}

extension Inbox {
    /// Applies `changes` atomically and records each in the ticket's history. A closed ticket stays
    /// closed; reopening clears the resolution reason.
    public func updateTicket(_ ticketId: Int64, _ changes: TicketChanges, by actor: Caller) async throws -> TicketSummary {
        guard !changes.isEmpty else { throw InboxError.invalid(code: "nothing_to_change", message: "name at least one change") }
        let addTags = try changes.addTags.map(Self.tag)
        let removeTags = try changes.removeTags.map(Self.tag)
        var fields: [FieldValueChange] = []
        if !changes.fields.isEmpty {
            // Access before the fields' definitions: who may not touch the ticket learns nothing more.
            try await authorize(actor, .answer, .ticket(ticketId))
            fields = try await ticketFieldChanges(changes.fields)
        }
        let update = TicketEdit(
            status: changes.status, priority: changes.priority, resolutionReason: changes.resolutionReason, addTags: addTags, removeTags: removeTags,
            fields: fields)
        try await stores.ticketStore.update(ticketId: ticketId, update, by: actor, at: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) })
        if let status = changes.status { bus.publish([.ticketStatusChanged(ticketId: ticketId, status: status)]) }
        return try await summary(ticketId)
    }

    /// Ticket field values by key, checked against their definitions and normalized, in key order.
    private func ticketFieldChanges(_ values: [String: String?]) async throws -> [FieldValueChange] {
        let defined = Dictionary(uniqueKeysWithValues: try await stores.customFieldStore.fields(scope: .ticket).map { ($0.key, $0) })
        return try values.sorted(by: { $0.key < $1.key }).map { key, value in
            guard let field = defined[key] else { throw InboxError.unprocessable(code: "unknown_field", message: "there is no ticket field \(key)") }
            return FieldValueChange(field: field, value: try value.map(field.normalize))
        }
    }

    /// Adds an internal note; the author's note draft on the ticket is used up with it.
    public func addNote(ticketId: Int64, text: String, by actor: Caller) async throws -> TicketNote {
        guard TextRules.isName(text, maxLength: 4096) else {
            throw InboxError.invalid(code: "invalid_note", message: "a note is 1 to 4096 characters, not all blank")
        }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        try await authorize(actor, .read, .ticket(ticketId))
        return try await stores.ticketStore.addNote(ticketId: ticketId, text: text, agentId: actor.agentId, author: actor.name, at: clock())
    }

    /// A ticket's internal notes, oldest first, or `nil` if there is no such ticket.
    public func notes(ticketId: Int64) async throws -> [TicketNote]? {
        try await stores.ticketStore.notes(ticketId: ticketId)
    }

    /// Marks the ticket read (up to its newest message) or unread for the acting agent.
    public func markRead(ticketId: Int64, _ read: Bool, by actor: Caller) async throws -> TicketSummary {
        guard let agentId = actor.agentId else {
            throw InboxError.forbidden(code: "not_an_agent", message: "read marks belong to agents; use an agent's token")
        }
        try await authorize(actor, .read, .ticket(ticketId))
        try await stores.ticketStore.markRead(ticketId: ticketId, agentId: agentId, read)
        return try await summary(ticketId, reader: agentId)
    }

    /// Tags are 1 to 50 characters, not all blank, as sent; they are kept trimmed and lower-cased.
    static func tag(_ raw: String) throws -> String {
        guard TextRules.isName(raw, maxLength: 50) else { throw InboxError.invalid(code: "invalid_tag", message: "a tag is 1 to 50 characters, not all blank") }
        return raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}

extension TicketStatus {
    /// New, open and pending tickets are being worked on: reaching one clears the resolution reason,
    /// and only they keep their place in the queue.
    public var reopens: Bool { [.new, .open, .pending].contains(self) }
}

extension InboxError {
    public static func closedTicketReopened(_ ticketId: Int64) -> InboxError {
        .conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed and cannot be reopened")
    }
}
