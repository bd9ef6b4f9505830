import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `TicketStore` on PostgreSQL. Closing resolved tickets is one `UPDATE ... RETURNING`, so when
/// several processes' janitors run at once each ticket is closed (and announced) by one of them.
public struct PostgresTicketStore: TicketStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func addNote(ticketId: Int64, text: String, agentId: Int64?, author: String, at now: Date) async throws -> TicketNote {
        let id = try await client.transaction(logger: logger) { connection in
            // The note's foreign key holds the ticket, then its trigger logs it: the log's counter
            // first, as a merge takes it before locking the tickets, or the two could deadlock.
            try await connection.query("SELECT 1 FROM event_seq WHERE id = 1 FOR NO KEY UPDATE", logger: logger)  // event_seq first
            if let agentId {
                try await PostgresDraftStore.useUp(connection, ticketId: ticketId, agentId: agentId, mode: .note, logger: logger)
            }
            let ids = try await connection.query("""
                INSERT INTO ticket_notes (ticket_id, agent_id, author, text, created_at) VALUES (\(ticketId), \(agentId), \(author), \(text), \(now.ms))
                RETURNING id
                """, logger: logger).decode(Int64.self).all()
            guard let id = ids.first else { throw InboxError.notFound("ticket \(ticketId)") }
            return id
        }
        return TicketNote(id: id, ticketId: ticketId, agentId: agentId, author: author, text: text, createdAt: Date(ms: now.ms))
    }

    public func notes(ticketId: Int64) async throws -> [TicketNote]? {
        try await client.transaction(logger: logger) { connection in
            guard try await exists(ticketId, connection) else { return nil }
            let rows = try await connection.query("""
                SELECT id, agent_id, author, text, created_at FROM ticket_notes WHERE ticket_id = \(ticketId) ORDER BY id
                """, logger: logger).decode((Int64, Int64?, String, String, Int64).self).all()
            return rows.map { TicketNote(id: $0.0, ticketId: ticketId, agentId: $0.1, author: $0.2, text: $0.3, createdAt: Date(ms: $0.4)) }
        }
    }

    public func markRead(ticketId: Int64, agentId: Int64, _ read: Bool) async throws {
        if read {
            try await client.query("""
                INSERT INTO ticket_reads (ticket_id, agent_id, last_message_id)
                VALUES (\(ticketId), \(agentId), (SELECT coalesce(max(id), 0) FROM messages WHERE ticket_id = \(ticketId)))
                ON CONFLICT (ticket_id, agent_id) DO UPDATE SET last_message_id = excluded.last_message_id
                """, logger: logger)
        } else {
            try await client.query("DELETE FROM ticket_reads WHERE ticket_id = \(ticketId) AND agent_id = \(agentId)", logger: logger)
        }
    }

    public func history(ticketId: Int64) async throws -> [TicketHistoryEntry]? {
        try await client.transaction(logger: logger) { connection in
            guard try await exists(ticketId, connection) else { return nil }
            let rows = try await connection.query("""
                SELECT id, kind, actor, detail, created_at FROM ticket_events WHERE ticket_id = \(ticketId) ORDER BY id
                """, logger: logger).decode((Int64, String, String, String, Int64).self).all()
            return rows.map { TicketHistoryEntry(id: $0.0, kind: $0.1, actor: $0.2, detail: $0.3, createdAt: Date(ms: $0.4)) }
        }
    }

    public func closeResolved(before cutoff: Date, at now: Date) async throws -> [Int64] {
        try await client.query("""
            UPDATE tickets SET status = 'closed', updated_at = \(now.ms) WHERE status = 'resolved' AND resolved_at < \(cutoff.ms) RETURNING id
            """, logger: logger).decode(Int64.self).all().sorted()
    }

    private func exists(_ ticketId: Int64, _ connection: PostgresConnection) async throws -> Bool {
        try await !connection.query("SELECT 1 FROM tickets WHERE id = \(ticketId)", logger: logger).decode(Int.self).all().isEmpty
    }
}
