import Foundation
import GRDB

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

extension Inbox {
    /// Applies `changes` atomically and records each in the ticket's history. A closed ticket stays
    /// closed; reopening clears the resolution reason.
    public func updateTicket(_ ticketId: Int64, _ changes: TicketChanges, by actor: Caller) async throws -> TicketSummary {
        guard !changes.isEmpty else { throw InboxError.invalid(code: "nothing_to_change", message: "name at least one change") }
        let addTags = try changes.addTags.map(Self.tag)
        let removeTags = try changes.removeTags.map(Self.tag)
        let now = clock().ms
        try await database.pool.write { db in
            try Self.authorize(db, actor, ticketId: ticketId, for: .answer)
            guard let current = try Row.fetchOne(db, sql: "SELECT status, priority FROM tickets WHERE id = ?", arguments: [ticketId]) else {
                throw InboxError.notFound("ticket \(ticketId)")
            }
            if let status = changes.status, status.rawValue != current["status"] as String {
                if current["status"] == TicketStatus.closed.rawValue {
                    throw InboxError.conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed and cannot be reopened")
                }
                let reopened = [.new, .open, .pending].contains(status)
                try db.execute(sql: """
                    UPDATE tickets SET status = ?, updated_at = ?,
                        resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE NULL END,
                        resolution_reason = CASE WHEN ? THEN NULL ELSE resolution_reason END,
                        queued_at = CASE WHEN ? THEN queued_at ELSE NULL END
                    WHERE id = ?
                    """, arguments: [status.rawValue, now, status.rawValue, now, reopened, reopened, ticketId])
                try Self.record(db, ticketId: ticketId, "status", by: actor.label, ["from": current["status"], "to": status.rawValue], at: now)
            }
            if let priority = changes.priority, priority.rawValue != current["priority"] {
                try db.execute(sql: "UPDATE tickets SET priority = ?, updated_at = ? WHERE id = ?", arguments: [priority.rawValue, now, ticketId])
                try Self.record(db, ticketId: ticketId, "priority", by: actor.label, ["from": current["priority"], "to": priority.rawValue], at: now)
            }
            if let reason = changes.resolutionReason {
                try db.execute(sql: "UPDATE tickets SET resolution_reason = ?, updated_at = ? WHERE id = ?", arguments: [reason.rawValue, now, ticketId])
                try Self.record(db, ticketId: ticketId, "resolution_reason", by: actor.label, ["to": reason.rawValue], at: now)
            }
            for tag in addTags {
                try db.execute(sql: "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?, ?)", arguments: [ticketId, tag])
                if db.changesCount > 0 { try Self.record(db, ticketId: ticketId, "tagged", by: actor.label, ["tag": tag], at: now) }
            }
            for tag in removeTags {
                try db.execute(sql: "DELETE FROM ticket_tags WHERE ticket_id = ? AND tag = ?", arguments: [ticketId, tag])
                if db.changesCount > 0 { try Self.record(db, ticketId: ticketId, "untagged", by: actor.label, ["tag": tag], at: now) }
            }
            for (key, value) in try Self.setFields(db, scope: .ticket, subject: ticketId, changes.fields).sorted(by: { $0.key < $1.key }) {
                try Self.record(db, ticketId: ticketId, "field", by: actor.label, ["key": key, "value": value], at: now)
            }
        }
        if let status = changes.status { bus.publish([.ticketStatusChanged(ticketId: ticketId, status: status)]) }
        return try await summary(ticketId)
    }

    /// Adds an internal note; the author's note draft on the ticket is used up with it.
    public func addNote(ticketId: Int64, text: String, by actor: Caller) async throws -> TicketNote {
        guard TextRules.isName(text, maxLength: 4096) else {
            throw InboxError.invalid(code: "invalid_note", message: "a note is 1 to 4096 characters, not all blank")
        }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        try await authorize(actor, .read, .ticket(ticketId))
        return try await ticketStore.addNote(ticketId: ticketId, text: text, agentId: actor.agentId, author: actor.name, at: clock())
    }

    /// A ticket's internal notes, oldest first, or `nil` if there is no such ticket.
    public func notes(ticketId: Int64) async throws -> [TicketNote]? {
        try await ticketStore.notes(ticketId: ticketId)
    }

    /// Marks the ticket read (up to its newest message) or unread for the acting agent.
    public func markRead(ticketId: Int64, _ read: Bool, by actor: Caller) async throws -> TicketSummary {
        guard let agentId = actor.agentId else {
            throw InboxError.forbidden(code: "not_an_agent", message: "read marks belong to agents; use an agent's token")
        }
        try await authorize(actor, .read, .ticket(ticketId))
        try await ticketStore.markRead(ticketId: ticketId, agentId: agentId, read)
        return try await summary(ticketId, reader: agentId)
    }

    /// Adds a note inside the caller's SQLite transaction.
    @discardableResult
    static func insertNote(_ db: Database, ticketId: Int64, text: String, by actor: Caller, at now: Int64) throws -> Int64 {
        try SQLiteTicketStore.insertNote(db, ticketId: ticketId, text: text, agentId: actor.agentId, author: actor.name, at: now)
    }

    /// Tags are 1 to 50 characters, not all blank, as sent; they are kept trimmed and lower-cased.
    static func tag(_ raw: String) throws -> String {
        guard TextRules.isName(raw, maxLength: 50) else { throw InboxError.invalid(code: "invalid_tag", message: "a tag is 1 to 50 characters, not all blank") }
        return raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
