import ChannelKit
import Foundation
import GRDB

/// A filtered page of the ticket list, newest activity first.
public struct TicketQuery: Sendable, Equatable {
    public var status: TicketStatus?
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
    /// Created at or after / before.
    public var createdFrom: Date?
    public var createdBefore: Date?
    public var cursor: String?
    public var limit: Int
    /// Who is asking: limits the list to what they may read and fills `unread`.
    public var actor: Actor?

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
    public func listTickets(_ query: TicketQuery) async throws -> TicketPage {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let status = query.status {
            conditions.append("t.status = ?")
            _ = arguments.append(contentsOf: [status.rawValue])
        }
        if let channel = query.channel {
            conditions.append("EXISTS (SELECT 1 FROM ticket_channels tc WHERE tc.ticket_id = t.id AND tc.channel = ?)")
            _ = arguments.append(contentsOf: [channel])
        }
        if let text = query.text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            let terms = text.split(whereSeparator: \.isWhitespace).map(String.init)
            if terms.allSatisfy({ $0.count >= 3 }) {
                // Each term as an FTS5 string (quotes doubled), all required; messages not indexed yet
                // (the last moments' worth) are scanned, so results are never behind.
                let match = terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " AND ")
                let tail = terms.map { _ in "instr(lower(m.text), lower(?)) > 0" }.joined(separator: " AND ")
                conditions.append("""
                    (t.id IN (SELECT m.ticket_id FROM messages_fts f JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?)
                     OR t.id IN (SELECT m.ticket_id FROM messages m WHERE m.id > (SELECT last_message_id FROM search_cursor) AND \(tail)))
                    """)
                _ = arguments.append(contentsOf: [match])
                _ = arguments.append(contentsOf: StatementArguments(terms))
            } else {
                // Shorter than a trigram: a plain scan.
                for term in terms {
                    conditions.append("EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND instr(lower(m.text), lower(?)) > 0)")
                    _ = arguments.append(contentsOf: [term])
                }
            }
        }
        if let contact = query.contact?.trimmingCharacters(in: .whitespacesAndNewlines), !contact.isEmpty {
            let digits = contact.filter(\.isNumber)
            conditions.append("""
                (instr(lower(coalesce(c.display_name, '')), lower(?)) > 0
                 OR EXISTS (SELECT 1 FROM identities i WHERE i.contact_id = t.contact_id
                            AND (i.platform_user_id = ? OR (? != '' AND i.phone = ?))))
                """)
            _ = arguments.append(contentsOf: [contact, contact, digits, digits])
        }
        if let agentId = query.agentId {
            conditions.append("t.agent_id = ?")
            _ = arguments.append(contentsOf: [agentId])
        }
        if query.unassigned { conditions.append("t.agent_id IS NULL AND t.assignee IS NULL") }
        if let departmentId = query.departmentId {
            conditions.append("t.department_id = ?")
            _ = arguments.append(contentsOf: [departmentId])
        }
        if let tag = query.tag {
            conditions.append("EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = ?)")
            _ = arguments.append(contentsOf: [try Self.tag(tag)])
        }
        if let priority = query.priority {
            conditions.append("t.priority = ?")
            _ = arguments.append(contentsOf: [priority.rawValue])
        }
        if let from = query.createdFrom {
            conditions.append("t.created_at >= ?")
            _ = arguments.append(contentsOf: [from.ms])
        }
        if let before = query.createdBefore {
            conditions.append("t.created_at < ?")
            _ = arguments.append(contentsOf: [before.ms])
        }
        if let visibility = query.actor?.visibility() {
            conditions.append(visibility.sql)
            _ = arguments.append(contentsOf: visibility.arguments)
        }
        if let cursor = query.cursor {
            guard let (updatedAt, id) = TicketCursor.decode(cursor) else {
                throw InboxError.invalid(code: "invalid_cursor", message: "cursor is not one this server returned")
            }
            conditions.append("(t.updated_at < ? OR (t.updated_at = ? AND t.id < ?))")
            _ = arguments.append(contentsOf: [updatedAt, updatedAt, id])
        }
        let limit = min(max(query.limit, 1), 200)
        let sql = """
            SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY t.updated_at DESC, t.id DESC LIMIT \(limit + 1)
            """
        let boundArguments = arguments
        let reader = query.actor?.agentId
        return try await database.pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: boundArguments)
            let items = try rows.prefix(limit).map { try Self.summary($0, db, reader: reader) }
            let next = rows.count > limit ? items.last.map { TicketCursor.encode(updatedAt: $0.updatedAt.ms, id: $0.id) } : nil
            return TicketPage(items: items, nextCursor: next)
        }
    }

    /// A ticket; `reader` (an agent id) fills `unread`.
    public func ticket(id: Int64, reader: Int64? = nil) async throws -> TicketSummary? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?",
                arguments: [id]
            ).map { try Self.summary($0, db, reader: reader) }
        }
    }

    static func summary(_ row: Row, _ db: Database, reader: Int64? = nil) throws -> TicketSummary {
        let id: Int64 = row["id"]
        let channels = try String.fetchAll(db.cachedStatement(sql: "SELECT channel FROM ticket_channels WHERE ticket_id = ? ORDER BY rowid"), arguments: [id])
        return TicketSummary(
            id: id, status: TicketStatus(rawValue: row["status"]) ?? .open,
            contact: ContactSummary(id: row["contact_id"], displayName: row["display_name"]), channels: channels,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]),
            resolvedAt: (row["resolved_at"] as Int64?).map { Date(ms: $0) }, assignee: row["assignee"],
            agentId: row["agent_id"], departmentId: row["department_id"],
            priority: TicketPriority(rawValue: row["priority"]) ?? .normal,
            tags: try String.fetchAll(db.cachedStatement(sql: "SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag"), arguments: [id]),
            resolutionReason: (row["resolution_reason"] as String?).flatMap(ResolutionReason.init(rawValue:)),
            mergedInto: row["merged_into"], queuedAt: (row["queued_at"] as Int64?).map { Date(ms: $0) },
            version: try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM messages WHERE ticket_id = ?"), arguments: [id]) ?? 0,
            unread: try reader.map { agent in
                try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE ticket_id = ?1 AND direction = 'in'
                        AND id > coalesce((SELECT last_message_id FROM ticket_reads WHERE ticket_id = ?1 AND agent_id = ?2), 0))
                    """), arguments: [id, agent]) ?? false
            })
    }

    /// A ticket's messages in conversation order, or `nil` if there is no such ticket.
    public func messages(ticketId: Int64) async throws -> [StoredMessage]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM messages WHERE ticket_id = ? ORDER BY created_at, id", arguments: [ticketId])
            let attachments = try Dictionary(grouping: Self.attachments(db, where: "message_id IN (SELECT id FROM messages WHERE ticket_id = ?)", [ticketId]), by: \.messageId)
            return try rows.map { try Self.message($0, attachments: attachments[$0["id"]] ?? []) }
        }
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]).map {
                try Self.message($0, attachments: Self.attachments(db, where: "message_id = ?", [id]))
            }
        }
    }

    static func message(_ row: Row, attachments: [AttachmentInfo]) throws -> StoredMessage {
        StoredMessage(
            id: row["id"], ticketId: row["ticket_id"], direction: MessageDirection(rawValue: row["direction"]) ?? .inbound,
            channel: row["channel"], account: row["account"], content: try ContentCoding.decode(MessageContent.self, row["content"]),
            text: row["text"], status: row["status"], platformMessageId: row["platform_message_id"],
            failureCode: row["failure_code"], failureReason: row["failure_reason"],
            segments: (row["segments"] as Int?).map { MessageSegments(count: $0, encoding: row["segment_encoding"] ?? "gsm7") },
            author: row["author"],
            attachments: attachments,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]))
    }

    public func attachment(id: Int64) async throws -> AttachmentInfo? {
        try await database.pool.read { db in try Self.attachments(db, where: "id = ?", [id]).first }
    }

    static func attachments(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [AttachmentInfo] {
        try Row.fetchAll(db, sql: "SELECT * FROM attachments WHERE \(condition) ORDER BY id", arguments: arguments).map { row in
            let media = try? ContentCoding.decode(MediaReference.self, row["media"])
            return AttachmentInfo(
                id: row["id"], messageId: row["message_id"], status: AttachmentInfo.Status(rawValue: row["status"]) ?? .pending,
                mimeType: row["mime_type"], size: row["size"], fileName: media?.fileName, path: row["path"], failureReason: row["failure_reason"])
        }
    }

    public func contact(id: Int64) async throws -> ContactDetail? {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]) else { return nil }
            let identities = try Row.fetchAll(db, sql: "SELECT * FROM identities WHERE contact_id = ? ORDER BY id", arguments: [id]).map { i in
                ContactDetail.Identity(
                    channel: i["channel"], account: i["account"], platformUserId: i["platform_user_id"], displayName: i["display_name"],
                    phone: i["phone"], lastInboundAt: (i["last_inbound_at"] as Int64?).map { Date(ms: $0) }, blocked: i["blocked"])
            }
            return ContactDetail(id: id, displayName: row["display_name"], identities: identities, createdAt: Date(ms: row["created_at"]))
        }
    }
}
