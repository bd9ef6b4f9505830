import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `DraftStore` on PostgreSQL. A save checks the channel and upserts in one statement: the row is
/// written only when the ticket's contact has an identity on `channel` (or no channel is named).
public struct PostgresDraftStore: DraftStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func draft(ticketId: Int64, agentId: Int64) async throws -> Draft? {
        let rows = try await client.query(
            "SELECT text, mode, channel, updated_at FROM drafts WHERE ticket_id = \(ticketId) AND agent_id = \(agentId)", logger: logger)
        for try await (text, mode, channel, updatedAt) in rows.decode((String, String, String?, Int64).self) {
            return Draft(text: text, mode: try UnknownStoredValue.decode(mode, as: Draft.Mode.self, column: "mode"), channel: channel, updatedAt: Date(ms: updatedAt))
        }
        return nil
    }

    public func save(_ draft: Draft, ticketId: Int64, agentId: Int64) async throws {
        let rows = try await client.query("""
            INSERT INTO drafts (ticket_id, agent_id, mode, text, channel, updated_at)
            SELECT \(ticketId), \(agentId), \(draft.mode.rawValue), \(draft.text), \(draft.channel), \(draft.updatedAt.ms)
            WHERE \(draft.channel)::text IS NULL OR EXISTS (
                SELECT 1 FROM identities i JOIN tickets t ON t.contact_id = i.contact_id WHERE t.id = \(ticketId) AND i.account = \(draft.channel))
            ON CONFLICT (ticket_id, agent_id) DO UPDATE SET mode = excluded.mode, text = excluded.text, channel = excluded.channel,
                updated_at = excluded.updated_at
            RETURNING 1
            """, logger: logger)
        for try await _ in rows.decode(Int.self) { return }
        throw InboxError.noSuchChannel(ticketId: ticketId, channel: draft.channel ?? "")
    }

    /// Inside a send's or a note's transaction: the author's draft of that mode is used up.
    static func useUp(_ connection: PostgresConnection, ticketId: Int64, agentId: Int64, mode: Draft.Mode, logger: Logger) async throws {
        try await connection.query(
            "DELETE FROM drafts WHERE ticket_id = \(ticketId) AND agent_id = \(agentId) AND mode = \(mode.rawValue)", logger: logger)
    }

    public func delete(ticketId: Int64, agentId: Int64) async throws {
        try await client.query("DELETE FROM drafts WHERE ticket_id = \(ticketId) AND agent_id = \(agentId)", logger: logger)
    }
}
