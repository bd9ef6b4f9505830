import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `SavedViewStore` on PostgreSQL. A name already taken is found by the unique index
/// (`saved_views_name`), so two processes adding the same name at once cannot both succeed.
public struct PostgresSavedViewStore: SavedViewStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func add(name: String, filter: String, agentId: Int64?, at: Date) async throws -> SavedView {
        let rows = try await client.query("""
            INSERT INTO saved_views (agent_id, name, filter, created_at) VALUES (\(agentId), \(name), \(filter), \(at.ms))
            ON CONFLICT (coalesce(agent_id, 0), name) DO NOTHING RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return SavedView(id: id, name: name, filter: filter, agentId: agentId) }
        throw InboxError.viewNameTaken(name)
    }

    public func views(for agentId: Int64?) async throws -> [SavedView] {
        try await fetch("""
            SELECT id, name, filter, agent_id FROM saved_views WHERE agent_id IS NULL OR agent_id = \(agentId ?? -1)
            ORDER BY agent_id IS NULL, name COLLATE "C"
            """)
    }

    public func everyView() async throws -> [SavedView] {
        try await fetch("SELECT id, name, filter, agent_id FROM saved_views ORDER BY id")
    }

    public func view(id: Int64) async throws -> SavedView? {
        try await fetch("SELECT id, name, filter, agent_id FROM saved_views WHERE id = \(id)").first
    }

    public func delete(id: Int64) async throws -> Bool {
        try await client.query("DELETE FROM saved_views WHERE id = \(id) RETURNING id", logger: logger).decode(Int64.self).all().count == 1
    }

    private func fetch(_ query: PostgresQuery) async throws -> [SavedView] {
        try await client.query(query, logger: logger).decode((Int64, String, String, Int64?).self).all().map {
            SavedView(id: $0.0, name: $0.1, filter: $0.2, agentId: $0.3)
        }
    }
}
