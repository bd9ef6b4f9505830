import ChannelKit
import Foundation
import GRDB

/// One message of the stream, as an agent console (Slack) follows it.
public struct ConsoleItem: Sendable {
    public var message: StoredMessage
    public var ticket: TicketSummary
    /// The console thread of the ticket, once it has one.
    public var thread: String?
}

extension Inbox {
    /// The messages after the console's cursor, oldest first. A console seen for the first time
    /// starts at the current end of the stream (no history flood).
    public func consoleFeed(account: String, limit: Int) async throws -> [ConsoleItem] {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO console_cursors (account, last_message_id) VALUES (?, (SELECT coalesce(max(id), 0) FROM messages))",
                arguments: [account])
            let cursor = try Int64.fetchOne(db, sql: "SELECT last_message_id FROM console_cursors WHERE account = ?", arguments: [account]) ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM messages WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor, limit])
            return try rows.compactMap { row -> ConsoleItem? in
                let ticketId: Int64 = row["ticket_id"]
                guard let ticketRow = try Row.fetchOne(
                    db, sql: "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?", arguments: [ticketId])
                else { return nil }
                let thread = try String.fetchOne(
                    db, sql: "SELECT thread FROM console_threads WHERE account = ? AND ticket_id = ?", arguments: [account, ticketId])
                return ConsoleItem(message: try SQLiteTicketRows.message(row, attachments: []), ticket: try SQLiteTicketRows.summary(ticketRow, db), thread: thread)
            }
        }
    }

    /// Moves the console's cursor past `messageId`.
    public func advanceConsole(account: String, past messageId: Int64) async throws {
        try await consoleStore.advance(account: account, past: messageId)
    }

    /// Records the console thread of a ticket.
    public func setConsoleThread(account: String, ticketId: Int64, channel: String, thread: String) async throws {
        try await consoleStore.setThread(account: account, ticketId: ticketId, channel: channel, thread: thread)
    }

    /// The ticket a console thread belongs to.
    public func ticket(consoleAccount account: String, channel: String, thread: String) async throws -> Int64? {
        try await consoleStore.ticket(account: account, channel: channel, thread: thread)
    }

    /// The console thread of a ticket.
    public func consoleThread(account: String, ticketId: Int64) async throws -> String? {
        try await consoleStore.thread(account: account, ticketId: ticketId)
    }

    /// Records an event id once; false when it was seen before (console retries, double clicks).
    public func recordOnce(account: String, eventId: String) async throws -> Bool {
        try await consoleStore.recordOnce(account: account, eventId: eventId, now: clock())
    }

    /// A console user takes the ticket: the agent with that e-mail or name when there is one,
    /// otherwise the ticket shows the console's name for them.
    public func claim(ticketId: Int64, by agent: String) async throws -> TicketSummary {
        let now = clock().ms
        let agentId: Int64? = try await database.pool.write { db in
            _ = try Self.assignable(db, ticketId)
            let known = try Row.fetchOne(
                db, sql: "SELECT id, name FROM agents WHERE (email = ? OR name = ? COLLATE NOCASE) AND deactivated_at IS NULL ORDER BY id LIMIT 1", arguments: [agent, agent])
            if let known {
                try Self.assign(db, ticketId: ticketId, to: known["id"], name: known["name"], now: now)
            } else {
                try db.execute(sql: """
                    UPDATE tickets SET assignee = ?, agent_id = NULL, queued_at = NULL, updated_at = ?,
                        status = CASE WHEN status = 'new' THEN 'open' ELSE status END
                    WHERE id = ?
                    """, arguments: [agent, now, ticketId])
            }
            try Self.record(
                db, ticketId: ticketId, "assigned", by: agent, ["agentId": (known?["id"] as Int64?).map(String.init), "how": "claim from a console"], at: now)
            return known?["id"]
        }
        if let agentId { bus.publish([.ticketAssigned(ticketId: ticketId, agentId: agentId)]) }
        return try await summary(ticketId)
    }
}
