import Logging
import PostgresNIO
import UniversalInbox

/// A ticket's history (`ticket_events`), one way for every PostgreSQL store that changes a ticket.
enum PostgresTicketHistory {
    /// Appends an entry inside the caller's transaction (which takes the event log's counter first:
    /// the entry is logged).
    static func record(
        _ ticketId: Int64, _ kind: String, by actor: String, _ detail: [String: String?], at now: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query("""
            INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at)
            VALUES (\(ticketId), \(kind), \(actor), \(try ContentCoding.encode(detail.compactMapValues { $0 })), \(now))
            """, logger: logger)
    }
}
