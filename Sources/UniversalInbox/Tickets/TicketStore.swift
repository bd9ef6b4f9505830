import Foundation
import GRDB

/// Where a ticket's internal notes, agents' read marks and the ticket's history are kept, and what
/// closes tickets resolved long ago. One implementation per database (`SQLiteTicketStore` below,
/// `PostgresTicketStore` in PostgresStore), held to one contract (Tests/StoreTests). Who may do
/// what is the domain's (`Inbox.addNote`, `Inbox.markRead`...); these are transactions with no policy.
public protocol TicketStore: Sendable {
    /// Adds a note written by `author` (agent `agentId` when an agent wrote it) and, in the same
    /// transaction, uses up that agent's note draft on the ticket (their reply draft stays).
    func addNote(ticketId: Int64, text: String, agentId: Int64?, author: String, at now: Date) async throws -> TicketNote

    /// A ticket's notes, oldest first, or nil if there is no such ticket.
    func notes(ticketId: Int64) async throws -> [TicketNote]?

    /// Marks the ticket read for the agent up to its newest message now (`read`), or removes the
    /// agent's mark so the ticket shows unread again.
    func markRead(ticketId: Int64, agentId: Int64, _ read: Bool) async throws

    /// A ticket's history, oldest first, or nil if there is no such ticket.
    func history(ticketId: Int64) async throws -> [TicketHistoryEntry]?

    /// Closes the tickets resolved before `cutoff` and returns their ids, ascending. Each ticket is
    /// closed (and returned) by one caller only, however many processes run this at once.
    func closeResolved(before cutoff: Date, at now: Date) async throws -> [Int64]

    /// Applies `update` to the ticket all or nothing and records each change in its history (by
    /// `actor`, at `now`): a status change (`status`), priority (`priority`), resolution reason,
    /// each tag actually added (`tagged`) or removed (`untagged`), each field value (`field`). A
    /// resolved ticket gets `resolved_at`; a reopened one (new, open, pending) loses its resolution
    /// reason, any other status leaves the queue. Refuses, changing nothing: `notFound`, what `check`
    /// throws, `ticket_closed` (a closed ticket's status changes no more).
    func update(ticketId: Int64, _ update: TicketEdit, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws

    /// Moves the messages, queued replies, notes and tags of `others` (ascending, distinct, not
    /// `survivor`) to `survivor`, closes each of them pointing at it (`merged` / `merged_in` in the
    /// histories), and rebuilds the survivor's channels and reply identity. All or nothing; refuses
    /// with, for the survivor then each other in turn: `notFound`, what `check` throws,
    /// `ticket_closed`; for the others also `already_merged` and `different_contacts`.
    func merge(_ others: [Int64], into survivor: Int64, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws

    /// Moves `messageIds` (distinct, ascending, not empty) and their queued replies to a new open,
    /// queued ticket of the same contact, department and priority, and returns its id. Refuses,
    /// changing nothing: `notFound`, what `check` throws, `ticket_closed`, `not_in_ticket` (a
    /// message of another ticket), `nothing_left` (every message chosen).
    func split(ticketId: Int64, messageIds: [Int64], by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws -> Int64
}

/// `TicketStore` on SQLite. Its statics are the same writes for other SQLite code that makes them
/// inside its own transaction (`Inbox.record`, `SQLiteTicketStore.insertNote`). Ticket edits, merges and
/// splits are in SQLiteTicketStore+Changes.swift and SQLiteTicketStore+MergeSplit.swift.
public struct SQLiteTicketStore: TicketStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func addNote(ticketId: Int64, text: String, agentId: Int64?, author: String, at now: Date) async throws -> TicketNote {
        let id: Int64 = try await database.pool.write { db in
            if let agentId {
                try SQLiteDraftStore.useUp(db, ticketId: ticketId, agentId: agentId, mode: .note)
            }
            return try Self.insertNote(db, ticketId: ticketId, text: text, agentId: agentId, author: author, at: now.ms)
        }
        return TicketNote(id: id, ticketId: ticketId, agentId: agentId, author: author, text: text, createdAt: Date(ms: now.ms))
    }

    public func notes(ticketId: Int64) async throws -> [TicketNote]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            return try Row.fetchAll(db, sql: "SELECT * FROM ticket_notes WHERE ticket_id = ? ORDER BY id", arguments: [ticketId]).map {
                TicketNote(id: $0["id"], ticketId: $0["ticket_id"], agentId: $0["agent_id"], author: $0["author"], text: $0["text"], createdAt: Date(ms: $0["created_at"]))
            }
        }
    }

    public func markRead(ticketId: Int64, agentId: Int64, _ read: Bool) async throws {
        try await database.pool.write { db in
            if read {
                try db.execute(sql: """
                    INSERT INTO ticket_reads (ticket_id, agent_id, last_message_id)
                    VALUES (?, ?, (SELECT coalesce(max(id), 0) FROM messages WHERE ticket_id = ?))
                    ON CONFLICT (ticket_id, agent_id) DO UPDATE SET last_message_id = excluded.last_message_id
                    """, arguments: [ticketId, agentId, ticketId])
            } else {
                try db.execute(sql: "DELETE FROM ticket_reads WHERE ticket_id = ? AND agent_id = ?", arguments: [ticketId, agentId])
            }
        }
    }

    public func history(ticketId: Int64) async throws -> [TicketHistoryEntry]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            return try Row.fetchAll(db, sql: "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", arguments: [ticketId]).map { row in
                TicketHistoryEntry(id: row["id"], kind: row["kind"], actor: row["actor"], detail: row["detail"], createdAt: Date(ms: row["created_at"]))
            }
        }
    }

    public func closeResolved(before cutoff: Date, at now: Date) async throws -> [Int64] {
        try await database.pool.write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM tickets WHERE status = 'resolved' AND resolved_at < ? ORDER BY id", arguments: [cutoff.ms])
            try db.execute(
                sql: "UPDATE tickets SET status = 'closed', updated_at = ? WHERE status = 'resolved' AND resolved_at < ?",
                arguments: [now.ms, cutoff.ms])
            return ids
        }
    }

    /// Appends to a ticket's history inside the caller's transaction.
    static func record(_ db: Database, ticketId: Int64, _ kind: String, by actor: String, _ detail: [String: String?], at now: Int64) throws {
        try db.execute(
            sql: "INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [ticketId, kind, actor, try ContentCoding.encode(detail.compactMapValues { $0 }), now])
    }

    /// Adds a note inside the caller's transaction; returns its id.
    @discardableResult
    static func insertNote(_ db: Database, ticketId: Int64, text: String, agentId: Int64?, author: String, at now: Int64) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO ticket_notes (ticket_id, agent_id, author, text, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [ticketId, agentId, author, text, now])
        return db.lastInsertedRowID
    }
}
