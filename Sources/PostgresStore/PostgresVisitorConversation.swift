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
                WHERE channel = 'webchat' AND identity_id = (SELECT id FROM identities WHERE account = \(account) AND platform_user_id = \(visitorId)) AND id > \(after)
                ORDER BY id LIMIT \(Int64(limit))
                """, logger: logger)
            return try await Self.withAttachments(try await PostgresMessageRows.messages(rows, attachments: [:]), connection, logger)
        }
    }

    public func visitorMessages(account: String, visitorId: String, ids: [Int64]) async throws -> [StoredMessage] {
        try await snapshot { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: PostgresMessageRows.columns) FROM messages
                WHERE channel = 'webchat' AND identity_id = (SELECT id FROM identities WHERE account = \(account) AND platform_user_id = \(visitorId)) AND id = ANY(\(ids))
                ORDER BY id
                """, logger: logger)
            return try await Self.withAttachments(try await PostgresMessageRows.messages(rows, attachments: [:]), connection, logger)
        }
    }

    public func messageIdentities(ids: [Int64], channel: String) async throws -> [MessageIdentity] {
        try await client.withConnection { connection in
            try await connection.query("""
                SELECT m.id, i.account, i.platform_user_id FROM messages m JOIN identities i ON i.id = m.identity_id
                WHERE m.id = ANY(\(ids)) AND i.channel = \(channel) ORDER BY m.id
                """, logger: logger
            ).decode((Int64, String, String).self).all().map { MessageIdentity(messageId: $0.0, account: $0.1, userId: $0.2) }
        }
    }

    public func visitorTicket(account: String, visitorId: String) async throws -> Int64? {
        try await client.withConnection { connection in try await Self.visitorTicket(account, visitorId, connection, logger) }
    }

    public func rateVisitorTicket(account: String, visitorId: String, rating: Rating, at now: Date) async throws -> Int64? {
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            guard let ticketId = try await Self.visitorTicket(account, visitorId, connection, logger) else { return nil }
            let at = now.ms
            try await connection.query("""
                INSERT INTO ratings (ticket_id, contact_id, agent_id, requested_at, state, choices, rating, rated_at)
                SELECT id, contact_id, agent_id, \(at), 'widget', '[]', \(rating.rawValue), \(at) FROM tickets WHERE id = \(ticketId)
                ON CONFLICT (ticket_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at
                """, logger: logger)
            try await PostgresTicketHistory.record(ticketId, "rated", by: "customer", ["rating": rating.rawValue], at: at, on: connection, logger: logger)
            return ticketId
        }
    }

    public func visitorContact(account: String, visitorId: String) async throws -> Int64? {
        try await client.withConnection { connection in
            try await connection.query(
                "SELECT contact_id FROM identities WHERE account = \(account) AND platform_user_id = \(visitorId)", logger: logger
            ).decode(Int64.self).all().first
        }
    }

    public func contact(email: String, excluding: Int64) async throws -> Int64? {
        try await client.withConnection { connection in
            try await connection.query(
                "SELECT id FROM contacts WHERE lower(email COLLATE \"C\") = \(email) AND id <> \(excluding) ORDER BY id LIMIT 1", logger: logger
            ).decode(Int64.self).all().first
        }
    }

    private static func visitorTicket(_ account: String, _ visitorId: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64? {
        // From the identity: a visitor who never wrote has none, and is answered without reading
        // messages; then one step in `messages_visitor` (as every query here, it says the channel).
        try await connection.query("""
            SELECT (SELECT ticket_id FROM messages WHERE channel = 'webchat' AND identity_id = i.id ORDER BY id DESC LIMIT 1)
            FROM identities i WHERE i.account = \(account) AND i.platform_user_id = \(visitorId)
            """, logger: logger).decode(Int64?.self).all().first ?? nil
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
