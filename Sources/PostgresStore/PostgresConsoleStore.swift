import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `ConsoleStore` on PostgreSQL, for several bridge processes on one database: `recordOnce` is one
/// `INSERT ... ON CONFLICT (account, event_id) DO NOTHING`, so of two processes recording the same
/// event at once exactly one gets true (the other waits for its commit and inserts nothing).
/// `setThread` does what SQLite's `INSERT OR REPLACE` does: a row holding the thread for another
/// ticket goes, and the ticket's own row is replaced.
public struct PostgresConsoleStore: ConsoleStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func recordOnce(account: String, eventId: String, now: Date) async throws -> Bool {
        let rows = try await client.query("""
            INSERT INTO processed_events (account, event_id, received_at) VALUES (\(account), \(eventId), \(now.ms))
            ON CONFLICT (account, event_id) DO NOTHING RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func advance(account: String, past messageId: Int64) async throws {
        try await client.query(
            "UPDATE console_cursors SET last_message_id = greatest(last_message_id, \(messageId)) WHERE account = \(account)", logger: logger)
    }

    public func setThread(account: String, ticketId: Int64, channel: String, thread: String) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("""
                DELETE FROM console_threads WHERE account = \(account) AND channel = \(channel) AND thread = \(thread) AND ticket_id <> \(ticketId)
                """, logger: logger)
            try await connection.query("""
                INSERT INTO console_threads (account, ticket_id, channel, thread) VALUES (\(account), \(ticketId), \(channel), \(thread))
                ON CONFLICT (account, ticket_id) DO UPDATE SET channel = excluded.channel, thread = excluded.thread
                """, logger: logger)
        }
    }

    public func ticket(account: String, channel: String, thread: String) async throws -> Int64? {
        let rows = try await client.query(
            "SELECT ticket_id FROM console_threads WHERE account = \(account) AND channel = \(channel) AND thread = \(thread)", logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    public func thread(account: String, ticketId: Int64) async throws -> String? {
        let rows = try await client.query(
            "SELECT thread FROM console_threads WHERE account = \(account) AND ticket_id = \(ticketId)", logger: logger)
        for try await thread in rows.decode(String.self) { return thread }
        return nil
    }
}
