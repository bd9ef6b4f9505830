import Foundation
import GRDB

/// A ticket-list filter saved under a name: an agent's own, or shared with everyone.
public struct SavedView: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    /// The list's query string, e.g. `status=open&tag=vip`.
    public var filter: String
    /// The owner; nil for a shared view.
    public var agentId: Int64?
}

extension Inbox {
    public func saveView(name: String, filter: String, agentId: Int64?) async throws -> SavedView {
        guard TextRules.isName(name, maxLength: 100) else {
            throw InboxError.invalid(code: "invalid_name", message: "a view needs a name of 1 to 100 characters, not all blank")
        }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard TextRules.length(filter) <= 2000 else { throw InboxError.invalid(code: "invalid_filter", message: "a filter is at most 2000 characters") }
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM saved_views WHERE coalesce(agent_id, 0) = ? AND name = ?", arguments: [agentId ?? 0, name]) != nil {
                throw InboxError.conflict(code: "name_taken", message: "a view named \(name) already exists")
            }
            try db.execute(
                sql: "INSERT INTO saved_views (agent_id, name, filter, created_at) VALUES (?, ?, ?, ?)", arguments: [agentId, name, filter, now])
            return db.lastInsertedRowID
        }
        return SavedView(id: id, name: name, filter: filter, agentId: agentId)
    }

    /// Shared views and the agent's own.
    public func savedViews(for agentId: Int64?) async throws -> [SavedView] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM saved_views WHERE agent_id IS NULL OR agent_id = ? ORDER BY agent_id IS NULL, name", arguments: [agentId ?? -1])
                .map { SavedView(id: $0["id"], name: $0["name"], filter: $0["filter"], agentId: $0["agent_id"]) }
        }
    }

    /// Deletes a view: its owner, or (for shared views) an owner or admin.
    public func deleteView(id: Int64, by actor: Caller) async throws {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT agent_id FROM saved_views WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("view \(id)")
            }
            let owner: Int64? = row["agent_id"]
            guard owner.map({ $0 == actor.agentId }) ?? actor.managesSettings else {
                throw InboxError.forbidden(code: "not_yours", message: "this view is not yours to delete")
            }
            try db.execute(sql: "DELETE FROM saved_views WHERE id = ?", arguments: [id])
        }
    }
}
