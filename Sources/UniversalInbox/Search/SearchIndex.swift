import Foundation
import GRDB

extension Inbox {
    /// Adds up to `limit` messages committed since the last call to the full-text index and
    /// returns how many. Run after commits (SearchIndexer), so webhooks never wait for indexing.
    @discardableResult
    public func indexNewMessages(limit: Int = 2000) async throws -> Int {
        try await database.pool.write { db in
            let cursor = try Int64.fetchOne(db, sql: "SELECT last_message_id FROM search_cursor WHERE id = 1") ?? 0
            let last = try Int64.fetchOne(
                db, sql: "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)", arguments: [cursor, limit])
            guard let last else { return 0 }
            try db.execute(
                sql: "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ? AND id <= ? ORDER BY id",
                arguments: [cursor, last])
            let count = db.changesCount
            try db.execute(sql: "UPDATE search_cursor SET last_message_id = ? WHERE id = 1", arguments: [last])
            return count
        }
    }
}
