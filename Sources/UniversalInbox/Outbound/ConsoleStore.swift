import Foundation
import GRDB

/// What an agent console (Slack) keeps in the store: each ticket's thread there, how far the
/// console has followed the message stream, and the console's event ids already acted on. One
/// implementation per database (`SQLiteConsoleStore` below, `PostgresConsoleStore` in
/// PostgresStore), held to one contract (Tests/StoreTests); times are passed in. The feed itself
/// (`Inbox.consoleFeed`) still reads on SQLite: it needs the ticket summaries the ticket store owns.
public protocol ConsoleStore: Sendable {
    /// Records `eventId` on `account` at `now`; false when it was recorded before (a console's
    /// retry, a double click), also by another process.
    func recordOnce(account: String, eventId: String, now: Date) async throws -> Bool
    /// Moves the console's cursor past `messageId` (never back).
    func advance(account: String, past messageId: Int64) async throws
    /// Records the console thread of a ticket; a thread holds one ticket, a ticket one thread.
    func setThread(account: String, ticketId: Int64, channel: String, thread: String) async throws
    /// The ticket a console thread belongs to.
    func ticket(account: String, channel: String, thread: String) async throws -> Int64?
    /// The console thread of a ticket.
    func thread(account: String, ticketId: Int64) async throws -> String?
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

    public func advance(account: String, past messageId: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE console_cursors SET last_message_id = max(last_message_id, ?) WHERE account = ?", arguments: [messageId, account])
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
