import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `ConsoleStore` on PostgreSQL, for several bridge processes on one database: `recordOnce` is one
/// `INSERT ... ON CONFLICT (account, event_id) DO NOTHING`, so of two processes recording the same
/// event at once exactly one gets true (the other waits for its commit and inserts nothing).
/// `take` reads and moves the cursor with its row locked, so two processes following one console
/// get disjoint messages; `giveBack` moves it back only from where that take left it. The stream is
/// read by message id, which relies on every writer of messages taking the event log's counter
/// (`event_seq`) before it inserts one (the lock order): a message whose id was taken before the
/// counter could commit below the cursor and never be handed out. A console claim locks the ticket as an
/// agent's claim does (`PostgresAssignmentStore.lockTicket`), after `event_seq`.
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

    public func take(account: String, limit: Int) async throws -> [ConsoleFeedEntry] {
        let logger = logger
        try await client.query("""
            INSERT INTO console_cursors (account, last_message_id) VALUES (\(account), (SELECT coalesce(max(id), 0) FROM messages))
            ON CONFLICT (account) DO NOTHING
            """, logger: logger)
        return try await client.transaction(logger: logger) { connection in
            // The cursor's row lock: a second process's take waits here, then reads past this one's.
            let cursor = try await connection.query(
                "SELECT last_message_id FROM console_cursors WHERE account = \(account) FOR UPDATE", logger: logger
            ).decode(Int64.self).all().first ?? 0
            var entries: [ConsoleFeedEntry] = []
            for try await (messageId, ticketId, thread) in try await connection.query("""
                SELECT m.id, m.ticket_id, ct.thread FROM messages m
                LEFT JOIN console_threads ct ON ct.account = \(account) AND ct.ticket_id = m.ticket_id
                WHERE m.id > \(cursor) ORDER BY m.id LIMIT \(limit)
                """, logger: logger).decode((Int64, Int64, String?).self) {
                entries.append(ConsoleFeedEntry(messageId: messageId, ticketId: ticketId, thread: thread))
            }
            if let last = entries.last {
                try await connection.query("UPDATE console_cursors SET last_message_id = \(last.messageId) WHERE account = \(account)", logger: logger)
            }
            return entries
        }
    }

    public func giveBack(account: String, from messageId: Int64, takenThrough: Int64) async throws -> Bool {
        guard messageId <= takenThrough else { return false }
        let rows = try await client.query("""
            UPDATE console_cursors SET last_message_id = \(messageId - 1) WHERE account = \(account) AND last_message_id = \(takenThrough) RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func claim(ticketId: Int64, by name: String, at now: Date) async throws -> Int64? {
        let logger = logger
        let now = now.ms
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            // The ticket locked as an agent's claim locks it (nobody checks a console user's access).
            _ = try await PostgresAssignmentStore.lockTicket(ticketId, on: connection, check: { _, _ in }, logger: logger)
            let known = try await connection.query("""
                SELECT id, name FROM agents WHERE (email = \(name) OR lower(name) = lower(\(name))) AND deactivated_at IS NULL ORDER BY id LIMIT 1
                """, logger: logger).decode((Int64, String).self).all().first
            if let (agentId, agentName) = known {
                try await PostgresAssignmentStore.assign(ticketId, to: agentId, name: agentName, at: now, on: connection, logger: logger)
            } else {
                try await connection.query("""
                    UPDATE tickets SET assignee = \(name), agent_id = NULL, queued_at = NULL, updated_at = \(now),
                        status = CASE WHEN status = 'new' THEN 'open' ELSE status END
                    WHERE id = \(ticketId)
                    """, logger: logger)
            }
            try await PostgresTicketHistory.record(
                ticketId, "assigned", by: name, ["agentId": known.map { String($0.0) }, "how": "claim from a console"], at: now, on: connection, logger: logger)
            return known?.0
        }
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
