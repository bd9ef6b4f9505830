import Foundation
import GRDB

/// What an agent console (Slack) keeps in the store: each ticket's thread there, how far the
/// console has followed the message stream, and the console's event ids already acted on; and a
/// console user's claim of a ticket. One implementation per database (`SQLiteConsoleStore` below,
/// `PostgresConsoleStore` in PostgresStore), held to one contract (Tests/StoreTests); times are
/// passed in.
public protocol ConsoleStore: Sendable {
    /// Records `eventId` on `account` at `now`; false when it was recorded before (a console's
    /// retry, a double click), also by another process.
    func recordOnce(account: String, eventId: String, now: Date) async throws -> Bool
    /// Hands out up to `limit` messages after the console's cursor, oldest first, and moves the
    /// cursor past them in the same transaction: of two processes following one console, each
    /// message goes to one of them. A console seen for the first time starts at the current end of
    /// the stream (no history flood).
    func take(account: String, limit: Int) async throws -> [ConsoleFeedEntry]
    /// Puts the cursor back before `messageId` when it is still where the `take` that handed it
    /// out left it (`takenThrough`), so the messages from `messageId` on are handed out again (a
    /// post that failed and may be retried). False, changing nothing, when a later `take` has
    /// moved it: those messages are then never handed out again (never posted twice).
    func giveBack(account: String, from messageId: Int64, takenThrough: Int64) async throws -> Bool
    /// A console user takes a ticket: the agent whose e-mail is `name`, or whose name is `name`
    /// in any case, when there is one (not deactivated; the lowest id), otherwise the ticket shows
    /// `name` as its assignee with no agent. A new ticket becomes open and leaves the queue;
    /// `assigned` (how "claim from a console") goes in its history. Returns the agent's id.
    /// Refuses, changing nothing: `notFound`, `ticket_closed`.
    func claim(ticketId: Int64, by name: String, at now: Date) async throws -> Int64?
    /// Records the console thread of a ticket; a thread holds one ticket, a ticket one thread.
    func setThread(account: String, ticketId: Int64, channel: String, thread: String) async throws
    /// The ticket a console thread belongs to.
    func ticket(account: String, channel: String, thread: String) async throws -> Int64?
    /// The console thread of a ticket.
    func thread(account: String, ticketId: Int64) async throws -> String?
}

/// One message of the stream as a console's `take` hands it out.
public struct ConsoleFeedEntry: Sendable, Equatable {
    public var messageId: Int64
    public var ticketId: Int64
    /// The console thread of the ticket, once it has one.
    public var thread: String?

    public init(messageId: Int64, ticketId: Int64, thread: String?) {
        self.messageId = messageId
        self.ticketId = ticketId
        self.thread = thread
    }
}

/// `ConsoleStore` on the SQLite database.
public struct SQLiteConsoleStore: ConsoleStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func recordOnce(account: String, eventId: String, now: Date) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO processed_events (account, event_id, received_at) VALUES (?, ?, ?)", arguments: [account, eventId, now.ms])
            return db.changesCount == 1
        }
    }

    public func take(account: String, limit: Int) async throws -> [ConsoleFeedEntry] {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO console_cursors (account, last_message_id) VALUES (?, (SELECT coalesce(max(id), 0) FROM messages))",
                arguments: [account])
            let entries = try Row.fetchAll(db, sql: """
                SELECT m.id, m.ticket_id, ct.thread FROM messages m
                LEFT JOIN console_threads ct ON ct.account = ? AND ct.ticket_id = m.ticket_id
                WHERE m.id > (SELECT last_message_id FROM console_cursors WHERE account = ?) ORDER BY m.id LIMIT ?
                """, arguments: [account, account, limit]
            ).map { ConsoleFeedEntry(messageId: $0[0], ticketId: $0[1], thread: $0[2]) }
            if let last = entries.last {
                try db.execute(sql: "UPDATE console_cursors SET last_message_id = ? WHERE account = ?", arguments: [last.messageId, account])
            }
            return entries
        }
    }

    public func giveBack(account: String, from messageId: Int64, takenThrough: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE console_cursors SET last_message_id = ? WHERE account = ? AND last_message_id = ? AND ? <= ?",
                arguments: [messageId - 1, account, takenThrough, messageId, takenThrough])
            return db.changesCount == 1
        }
    }

    public func claim(ticketId: Int64, by name: String, at now: Date) async throws -> Int64? {
        let now = now.ms
        return try await database.pool.write { db in
            _ = try Inbox.assignable(db, ticketId)
            let known = try Row.fetchOne(
                db, sql: "SELECT id, name FROM agents WHERE (email = ? OR name = ? COLLATE NOCASE) AND deactivated_at IS NULL ORDER BY id LIMIT 1",
                arguments: [name, name])
            if let known {
                try Inbox.assign(db, ticketId: ticketId, to: known["id"], name: known["name"], now: now)
            } else {
                try db.execute(sql: """
                    UPDATE tickets SET assignee = ?, agent_id = NULL, queued_at = NULL, updated_at = ?,
                        status = CASE WHEN status = 'new' THEN 'open' ELSE status END
                    WHERE id = ?
                    """, arguments: [name, now, ticketId])
            }
            try Inbox.record(
                db, ticketId: ticketId, "assigned", by: name, ["agentId": (known?["id"] as Int64?).map(String.init), "how": "claim from a console"], at: now)
            return known?["id"]
        }
    }

    public func setThread(account: String, ticketId: Int64, channel: String, thread: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO console_threads (account, ticket_id, channel, thread) VALUES (?, ?, ?, ?)",
                arguments: [account, ticketId, channel, thread])
        }
    }

    public func ticket(account: String, channel: String, thread: String) async throws -> Int64? {
        try await database.pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT ticket_id FROM console_threads WHERE account = ? AND channel = ? AND thread = ?", arguments: [account, channel, thread])
        }
    }

    public func thread(account: String, ticketId: Int64) async throws -> String? {
        try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT thread FROM console_threads WHERE account = ? AND ticket_id = ?", arguments: [account, ticketId])
        }
    }
}
