import Foundation
import GRDB

/// Where saved ticket-list views are kept (`SavedView`). One implementation per database
/// (`SQLiteSavedViewStore` below, `PostgresSavedViewStore` in PostgresStore), held to one contract
/// (Tests/StoreTests). Names are checked and who may delete a view is decided by the domain
/// (`Inbox.saveView`, `Inbox.deleteView`).
public protocol SavedViewStore: Sendable {
    /// Adds a view: an agent's own (`agentId`) or a shared one (nil). A name its owner already uses
    /// (the shared views count as one owner) is refused (`name_taken`) and nothing is added.
    func add(name: String, filter: String, agentId: Int64?, at: Date) async throws -> SavedView

    /// The shared views and `agentId`'s own: the agent's own first, each group by name.
    func views(for agentId: Int64?) async throws -> [SavedView]

    /// Every view, shared and every agent's, by id (what a field's deletion checks for users).
    func everyView() async throws -> [SavedView]

    /// One view, or nil.
    func view(id: Int64) async throws -> SavedView?

    /// Deletes a view; false when there was none.
    func delete(id: Int64) async throws -> Bool
}

extension InboxError {
    public static func viewNameTaken(_ name: String) -> InboxError {
        .conflict(code: "name_taken", message: "a view named \(name) already exists")
    }
}

/// `SavedViewStore` on SQLite.
public struct SQLiteSavedViewStore: SavedViewStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func add(name: String, filter: String, agentId: Int64?, at: Date) async throws -> SavedView {
        let id: Int64 = try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM saved_views WHERE coalesce(agent_id, 0) = ? AND name = ?", arguments: [agentId ?? 0, name]) != nil {
                throw InboxError.viewNameTaken(name)
            }
            try db.execute(
                sql: "INSERT INTO saved_views (agent_id, name, filter, created_at) VALUES (?, ?, ?, ?)", arguments: [agentId, name, filter, at.ms])
            return db.lastInsertedRowID
        }
        return SavedView(id: id, name: name, filter: filter, agentId: agentId)
    }

    public func views(for agentId: Int64?) async throws -> [SavedView] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM saved_views WHERE agent_id IS NULL OR agent_id = ? ORDER BY agent_id IS NULL, name", arguments: [agentId ?? -1])
                .map(Self.view)
        }
    }

    public func everyView() async throws -> [SavedView] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM saved_views ORDER BY id").map(Self.view) }
    }

    public func view(id: Int64) async throws -> SavedView? {
        try await database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM saved_views WHERE id = ?", arguments: [id]).map(Self.view) }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM saved_views WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    private static func view(_ row: Row) -> SavedView {
        SavedView(id: row["id"], name: row["name"], filter: row["filter"], agentId: row["agent_id"])
    }
}
