import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// A website visitor's messages on PostgreSQL (`VisitorConversationStore`), one snapshot per read.
extension PostgresTicketQueryStore {
    public func visitorMessages(account: String, visitorId: String, after: Int64, limit: Int) async throws -> [StoredMessage] {
        try await snapshot { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: PostgresMessageRows.columns) FROM messages
                WHERE identity_id IN (SELECT id FROM identities WHERE account = \(account) AND platform_user_id = \(visitorId)) AND id > \(after)
                ORDER BY id LIMIT \(Int64(limit))
                """, logger: logger)
            return try await Self.withAttachments(try await PostgresMessageRows.messages(rows, attachments: [:]), connection, logger)
        }
    }

    public func visitorMessages(account: String, visitorId: String, ids: [Int64]) async throws -> [StoredMessage] {
        try await snapshot { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: PostgresMessageRows.columns) FROM messages
                WHERE identity_id IN (SELECT id FROM identities WHERE account = \(account) AND platform_user_id = \(visitorId)) AND id = ANY(\(ids))
                ORDER BY id
                """, logger: logger)
            return try await Self.withAttachments(try await PostgresMessageRows.messages(rows, attachments: [:]), connection, logger)
        }
    }

    private static func withAttachments(_ messages: [StoredMessage], _ connection: PostgresConnection, _ logger: Logger) async throws -> [StoredMessage] {
        let ids = messages.map(\.id)
        guard !ids.isEmpty else { return [] }
        let attachments = try await PostgresMessageRows.attachments(
            "SELECT \(unescaped: PostgresMessageRows.attachmentColumns) FROM attachments WHERE message_id = ANY(\(ids)) ORDER BY id", connection, logger)
        return messages.map { message in
            var message = message
            message.attachments = attachments[message.id] ?? []
            return message
        }
    }
}
