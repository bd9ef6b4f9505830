import Foundation
import GRDB

/// `EventLogStore` on SQLite. A read transaction is a snapshot (WAL), and SQLite's single writer
/// commits entries in `seq` order.
public struct SQLiteEventLogStore: EventLogStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func head() async throws -> Int64 {
        try await database.pool.read { db in try Self.head(db) }
    }

    public func slice(after: Int64, limit: Int) async throws -> EventLogSlice {
        try await database.pool.read { db in
            EventLogSlice(
                entries: try Self.entries(db, after: after, limit: limit), head: try Self.head(db),
                prunedThrough: try Int64.fetchOne(db.cachedStatement(sql: "SELECT pruned_through FROM event_log_state")) ?? 0)
        }
    }

    public func prune(keep: Int) async throws -> Int {
        try await database.pool.write { db in
            let through = try Self.head(db) - Int64(keep)
            guard through > 0 else { return 0 }
            try db.execute(sql: "DELETE FROM events WHERE seq <= ?", arguments: [through])
            let deleted = db.changesCount
            try db.execute(sql: "UPDATE event_log_state SET pruned_through = max(pruned_through, ?)", arguments: [through])
            return deleted
        }
    }

    static func head(_ db: Database) throws -> Int64 {
        // AUTOINCREMENT keeps the high-water mark in sqlite_sequence even when every entry is pruned.
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'")) ?? 0
    }

    /// Entries after `after` (of `types`, or all) with their tickets' current assignee and department.
    /// The statements are cached per connection: every live feed and follower reads the log after
    /// each write, and compiling them each time (GRDB's authorizer too) showed in its profiles.
    static func entries(_ db: Database, after: Int64, limit: Int, types: [LoggedEvent.Kind]? = nil) throws -> [EventLogSlice.Entry] {
        let filter = types.map { " AND e.type IN (\($0.map { "'\($0.rawValue)'" }.joined(separator: ",")))" } ?? ""
        return try Row.fetchAll(db.cachedStatement(sql: """
            SELECT e.*, t.agent_id AS ticket_agent_id, t.department_id AS ticket_department_id
            FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
            WHERE e.seq > ?\(filter) ORDER BY e.seq LIMIT ?
            """), arguments: [after, limit]
        ).compactMap { row in
            LoggedEvent(seq: row["seq"], type: row["type"], ticketId: row["ticket_id"], data: row["data"]).map {
                EventLogSlice.Entry(event: $0, place: TicketPlace(agentId: row["ticket_agent_id"], departmentId: row["ticket_department_id"]))
            }
        }
    }
}
