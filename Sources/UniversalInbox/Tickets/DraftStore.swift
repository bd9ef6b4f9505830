import Foundation
import GRDB

/// Where drafts are kept (`Draft`): one per agent per ticket. One implementation per database
/// (`SQLiteDraftStore` below, `PostgresDraftStore` in PostgresStore), held to one contract
/// (Tests/StoreTests). Who may keep a draft on which ticket is the domain's (`Inbox.saveDraft`).
public protocol DraftStore: Sendable {
    /// An agent's draft on a ticket, or nil.
    func draft(ticketId: Int64, agentId: Int64) async throws -> Draft?

    /// Replaces an agent's draft on a ticket. A `channel` the ticket's contact has no identity on is
    /// refused (`no_such_channel`) in the same transaction, and nothing is saved.
    func save(_ draft: Draft, ticketId: Int64, agentId: Int64) async throws

    /// Deletes an agent's draft on a ticket; nothing to delete is fine.
    func delete(ticketId: Int64, agentId: Int64) async throws
}

extension InboxError {
    public static func noSuchChannel(ticketId: Int64, channel: String) -> InboxError {
        .unprocessable(code: "no_such_channel", message: "the customer of ticket \(ticketId) has no identity on \(channel)")
    }
}

/// `DraftStore` on SQLite.
public struct SQLiteDraftStore: DraftStore {
    /// Inside a send's or a note's transaction: the author's draft of that mode is used up.
    static func useUp(_ db: Database, ticketId: Int64, agentId: Int64, mode: Draft.Mode) throws {
        try db.execute(sql: "DELETE FROM drafts WHERE ticket_id = ? AND agent_id = ? AND mode = ?", arguments: [ticketId, agentId, mode.rawValue])
    }

    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func draft(ticketId: Int64, agentId: Int64) async throws -> Draft? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM drafts WHERE ticket_id = ? AND agent_id = ?", arguments: [ticketId, agentId]).map { row in
                Draft(text: row["text"], mode: try row.decode("mode", as: Draft.Mode.self), channel: row["channel"], updatedAt: Date(ms: row["updated_at"]))
            }
        }
    }

    public func save(_ draft: Draft, ticketId: Int64, agentId: Int64) async throws {
        try await database.pool.write { db in
            if let channel = draft.channel, try Bool.fetchOne(db, sql: """
                SELECT 1 FROM identities i JOIN tickets t ON t.contact_id = i.contact_id WHERE t.id = ? AND i.account = ?
                """, arguments: [ticketId, channel]) == nil
            {
                throw InboxError.noSuchChannel(ticketId: ticketId, channel: channel)
            }
            try db.execute(sql: """
                INSERT INTO drafts (ticket_id, agent_id, mode, text, channel, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id, agent_id) DO UPDATE SET mode = excluded.mode, text = excluded.text, channel = excluded.channel,
                    updated_at = excluded.updated_at
                """, arguments: [ticketId, agentId, draft.mode.rawValue, draft.text, draft.channel, draft.updatedAt.ms])
        }
    }

    public func delete(ticketId: Int64, agentId: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM drafts WHERE ticket_id = ? AND agent_id = ?", arguments: [ticketId, agentId])
        }
    }
}
