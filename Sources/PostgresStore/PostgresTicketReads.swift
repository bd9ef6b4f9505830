import ChannelKit
import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// One ticket's conversation on PostgreSQL (`TicketQueryStore`'s single reads; the ticket itself
/// is read by the lists' summary statement, at the end of PostgresTicketQueryStore.swift). A read of
/// messages and their attachments is one REPEATABLE READ snapshot, as a SQLite read is.
extension PostgresTicketQueryStore {
    public func tickets(ofContact contactId: Int64) async throws -> [Int64] {
        try await client.withConnection { connection in
            try await connection.query(
                "SELECT id FROM tickets WHERE contact_id = \(contactId) AND merged_into IS NULL ORDER BY id DESC", logger: logger
            ).decode(Int64.self).all()
        }
    }

    public func messages(ticketId: Int64) async throws -> [StoredMessage]? {
        try await snapshot { connection in
            guard try await Self.ticketExists(ticketId, connection, logger) else { return nil }
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresMessageRows.columns) FROM messages WHERE ticket_id = \(ticketId) ORDER BY created_at, id", logger: logger)
            let attachments = try await PostgresMessageRows.attachments(
                "SELECT \(unescaped: PostgresMessageRows.attachmentColumns) FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE ticket_id = \(ticketId)) ORDER BY id",
                connection, logger)
            return try await PostgresMessageRows.messages(rows, attachments: attachments)
        }
    }

    /// Walks `messages_ticket` backwards from the position, so a page costs the same at any depth.
    public func messagePage(ticketId: Int64, before: Int64?, limit: Int) async throws -> MessagePage? {
        try await snapshot { connection in
            guard try await Self.ticketExists(ticketId, connection, logger) else { return nil }
            let rows: PostgresRowSequence
            if let before {
                let positions = try await connection.query(
                    "SELECT created_at, id FROM messages WHERE id = \(before) AND ticket_id = \(ticketId)", logger: logger
                ).decode((Int64, Int64).self).all()
                guard let (createdAt, id) = positions.first else { throw MessagePage.invalidBefore(before, ticketId: ticketId) }
                rows = try await connection.query("""
                    SELECT \(unescaped: PostgresMessageRows.columns) FROM messages
                    WHERE ticket_id = \(ticketId) AND (created_at, id) < (\(createdAt), \(id))
                    ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit + 1))
                    """, logger: logger)
            } else {
                rows = try await connection.query("""
                    SELECT \(unescaped: PostgresMessageRows.columns) FROM messages WHERE ticket_id = \(ticketId)
                    ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit + 1))
                    """, logger: logger)
            }
            let newestFirst = try await PostgresMessageRows.messages(rows, attachments: [:])
            let page = Array(newestFirst.prefix(limit).reversed())
            let ids = page.map(\.id)
            let attachments = ids.isEmpty
                ? [:]
                : try await PostgresMessageRows.attachments(
                    "SELECT \(unescaped: PostgresMessageRows.attachmentColumns) FROM attachments WHERE message_id = ANY(\(ids)) ORDER BY id",
                    connection, logger)
            return MessagePage(
                items: page.map { message in
                    var message = message
                    message.attachments = attachments[message.id] ?? []
                    return message
                },
                nextBefore: newestFirst.count > limit ? ids.first : nil)
        }
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await snapshot { connection in
            let rows = try await connection.query("SELECT \(unescaped: PostgresMessageRows.columns) FROM messages WHERE id = \(id)", logger: logger)
            let attachments = try await PostgresMessageRows.attachments(
                "SELECT \(unescaped: PostgresMessageRows.attachmentColumns) FROM attachments WHERE message_id = \(id) ORDER BY id", connection, logger)
            return try await PostgresMessageRows.messages(rows, attachments: attachments).first
        }
    }

    public func attachment(id: Int64) async throws -> AttachmentInfo? {
        try await client.withConnection { connection in
            try await PostgresMessageRows.attachments(
                "SELECT \(unescaped: PostgresMessageRows.attachmentColumns) FROM attachments WHERE id = \(id)", connection, logger
            ).values.first?.first
        }
    }

    /// `body` in one READ ONLY REPEATABLE READ transaction.
    func snapshot<Result: Sendable>(_ body: (PostgresConnection) async throws -> sending Result) async throws -> Result {
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await body(connection)
        }
    }

    private static func ticketExists(_ id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await !connection.query("SELECT 1 FROM tickets WHERE id = \(id)", logger: logger).decode(Int32.self).all().isEmpty
    }
}

/// PostgreSQL rows of `messages` and `attachments` as the inbox's read models, the twin of
/// SQLite's `SQLiteTicketRows.message` and `.attachments`.
enum PostgresMessageRows {
    /// The columns `messages(_:attachments:)` reads, in its order.
    static let columns = """
        id, ticket_id, direction, channel, account, content, text, status, platform_message_id, failure_code, failure_reason,
        segments, segment_encoding, author, created_at, updated_at
        """

    /// The columns `attachments(_:_:_:)` reads, in its order.
    static let attachmentColumns = "id, message_id, status, mime_type, size, path, failure_reason, media"

    /// Each row of `rows` (selecting `columns`), with its attachments from `attachments` by message id.
    static func messages(_ rows: PostgresRowSequence, attachments: [Int64: [AttachmentInfo]]) async throws -> [StoredMessage] {
        var messages: [StoredMessage] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let id = try r[0].decode(Int64.self)
            let segments = try r[11].decode(Int?.self)
            messages.append(StoredMessage(
                id: id, ticketId: try r[1].decode(Int64.self),
                direction: try UnknownStoredValue.decode(r[2].decode(String.self), as: MessageDirection.self, column: "direction"),
                channel: try r[3].decode(String.self), account: try r[4].decode(String.self),
                content: try ContentCoding.decode(MessageContent.self, r[5].decode(String.self)),
                text: try r[6].decode(String.self), status: try r[7].decode(String.self), platformMessageId: try r[8].decode(String?.self),
                failureCode: try r[9].decode(String?.self), failureReason: try r[10].decode(String?.self),
                segments: try segments.map { MessageSegments(count: $0, encoding: try r[12].decode(String?.self) ?? "gsm7") },
                author: try r[13].decode(String?.self), attachments: attachments[id] ?? [],
                createdAt: Date(ms: try r[14].decode(Int64.self)), updatedAt: Date(ms: try r[15].decode(Int64.self))))
        }
        return messages
    }

    /// The attachments `query` (selecting `attachmentColumns`) reads, by message id, each message's in the query's order.
    static func attachments(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Int64: [AttachmentInfo]] {
        var byMessage: [Int64: [AttachmentInfo]] = [:]
        for try await row in try await connection.query(query, logger: logger) {
            let r = row.makeRandomAccess()
            let messageId = try r[1].decode(Int64.self)
            let media = try? ContentCoding.decode(MediaReference.self, r[7].decode(String.self))
            byMessage[messageId, default: []].append(AttachmentInfo(
                id: try r[0].decode(Int64.self), messageId: messageId,
                status: try UnknownStoredValue.decode(r[2].decode(String.self), as: AttachmentInfo.Status.self, column: "status"),
                mimeType: try r[3].decode(String?.self), size: try r[4].decode(Int?.self), fileName: media?.fileName,
                path: try r[5].decode(String?.self), failureReason: try r[6].decode(String?.self)))
        }
        return byMessage
    }
}
