import ChannelKit
import Foundation
import GRDB

/// One ticket and its conversation on SQLite (`TicketQueryStore`'s single reads), each in one
/// read snapshot.
extension SQLiteTicketQueryStore {
    public func ticket(id: Int64, reader: Int64?) async throws -> TicketSummary? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?",
                arguments: [id]
            ).map { try SQLiteTicketRows.summary($0, db, reader: reader) }
        }
    }

    public func tickets(ofContact contactId: Int64) async throws -> [Int64] {
        try await database.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM tickets WHERE contact_id = ? AND merged_into IS NULL ORDER BY id DESC", arguments: [contactId])
        }
    }

    public func messages(ticketId: Int64) async throws -> [StoredMessage]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM messages WHERE ticket_id = ? ORDER BY created_at, id", arguments: [ticketId])
            let attachments = try Dictionary(
                grouping: SQLiteTicketRows.attachments(db, where: "message_id IN (SELECT id FROM messages WHERE ticket_id = ?)", [ticketId]),
                by: \.messageId)
            return try rows.map { try SQLiteTicketRows.message($0, attachments: attachments[$0["id"]] ?? []) }
        }
    }

    /// Walks `messages_ticket` backwards from the position, so a page costs the same at any depth.
    public func messagePage(ticketId: Int64, before: Int64?, limit: Int) async throws -> MessagePage? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            var condition = ""
            var arguments: StatementArguments = [ticketId]
            if let before {
                guard let position = try Row.fetchOne(
                    db, sql: "SELECT created_at, id FROM messages WHERE id = ? AND ticket_id = ?", arguments: [before, ticketId])
                else { throw MessagePage.invalidBefore(before, ticketId: ticketId) }
                condition = " AND (created_at, id) < (?, ?)"
                _ = arguments.append(contentsOf: [position["created_at"] as Int64, position["id"] as Int64])
            }
            _ = arguments.append(contentsOf: [limit + 1])
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM messages WHERE ticket_id = ?\(condition) ORDER BY created_at DESC, id DESC LIMIT ?", arguments: arguments)
            let page = Array(rows.prefix(limit).reversed())
            let ids = page.map { $0["id"] as Int64 }
            let attachments = ids.isEmpty
                ? [:]
                : Dictionary(
                    grouping: try SQLiteTicketRows.attachments(db, where: "message_id IN (\(ids.map { _ in "?" }.joined(separator: ",")))", StatementArguments(ids)),
                    by: \.messageId)
            return MessagePage(
                items: try page.map { try SQLiteTicketRows.message($0, attachments: attachments[$0["id"]] ?? []) },
                nextBefore: rows.count > limit ? ids.first : nil)
        }
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]).map {
                try SQLiteTicketRows.message($0, attachments: SQLiteTicketRows.attachments(db, where: "message_id = ?", [id]))
            }
        }
    }

    public func attachment(id: Int64) async throws -> AttachmentInfo? {
        try await database.pool.read { db in try SQLiteTicketRows.attachments(db, where: "id = ?", [id]).first }
    }
}

/// SQLite rows as the inbox's read models, for the SQLite stores that read tickets, messages and
/// attachments (the lists, the single reads above, the console feed).
enum SQLiteTicketRows {
    /// A `SELECT t.*, c.display_name FROM tickets t JOIN contacts c` row as a list shows it, with
    /// its channels (in the order they were added), tags, fields and newest message; `reader` (an
    /// agent id) fills `unread`.
    static func summary(_ row: Row, _ db: Database, reader: Int64? = nil) throws -> TicketSummary {
        let id: Int64 = row["id"]
        let channels = try String.fetchAll(db.cachedStatement(sql: "SELECT channel FROM ticket_channels WHERE ticket_id = ? ORDER BY rowid"), arguments: [id])
        let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM messages WHERE ticket_id = ?"), arguments: [id]) ?? 0
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT direction, text, created_at FROM messages WHERE id = ?"), arguments: [version])
        let waitingSince: Int64? = row["waiting_since"]
        return TicketSummary(
            id: id, status: try row.decode("status", as: TicketStatus.self),
            contact: ContactSummary(id: row["contact_id"], displayName: row["display_name"]), channels: channels,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]),
            resolvedAt: (row["resolved_at"] as Int64?).map { Date(ms: $0) }, assignee: row["assignee"],
            agentId: row["agent_id"], departmentId: row["department_id"],
            priority: try row.decode("priority", as: TicketPriority.self),
            tags: try String.fetchAll(db.cachedStatement(sql: "SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag"), arguments: [id]),
            resolutionReason: try row.decodeIfPresent("resolution_reason", as: ResolutionReason.self),
            mergedInto: row["merged_into"], queuedAt: (row["queued_at"] as Int64?).map { Date(ms: $0) },
            version: version,
            unread: try reader.map { agent in
                try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE ticket_id = ?1 AND direction = 'in'
                        AND id > coalesce((SELECT last_message_id FROM ticket_reads WHERE ticket_id = ?1 AND agent_id = ?2), 0))
                    """), arguments: [id, agent]) ?? false
            },
            fields: try Inbox.fieldValues(db, scope: .ticket, subject: id),
            lastMessage: last.map { TicketSummary.LastMessage(direction: $0["direction"], text: $0["text"], createdAt: Date(ms: $0["created_at"])) },
            waitingSince: waitingSince.map { Date(ms: $0) })
    }

    /// A `SELECT * FROM messages` row.
    static func message(_ row: Row, attachments: [AttachmentInfo]) throws -> StoredMessage {
        StoredMessage(
            id: row["id"], ticketId: row["ticket_id"], direction: try row.decode("direction", as: MessageDirection.self),
            channel: row["channel"], account: row["account"], content: try ContentCoding.decode(MessageContent.self, row["content"]),
            text: row["text"], status: row["status"], platformMessageId: row["platform_message_id"],
            failureCode: row["failure_code"], failureReason: row["failure_reason"],
            segments: (row["segments"] as Int?).map { MessageSegments(count: $0, encoding: row["segment_encoding"] ?? "gsm7") },
            author: row["author"],
            attachments: attachments,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]))
    }

    /// The attachments matching `condition` (the store's own SQL), in id order.
    static func attachments(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [AttachmentInfo] {
        try Row.fetchAll(db, sql: "SELECT * FROM attachments WHERE \(condition) ORDER BY id", arguments: arguments).map { row in
            let media = try? ContentCoding.decode(MediaReference.self, row["media"])
            return AttachmentInfo(
                id: row["id"], messageId: row["message_id"], status: try row.decode("status", as: AttachmentInfo.Status.self),
                mimeType: row["mime_type"], size: row["size"], fileName: media?.fileName, path: row["path"], failureReason: row["failure_reason"])
        }
    }
}
