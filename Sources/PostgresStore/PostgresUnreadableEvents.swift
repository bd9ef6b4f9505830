import Foundation
import PostgresNIO
import UniversalInbox

/// The read side of the unreadable events `PostgresIngestStore` keeps.
extension PostgresIngestStore {
    public func unreadableEvents(limit: Int, before: Int64?) async throws -> [UnreadableEventRecord] {
        let rows = try await client.query("""
            SELECT id, account, reason, raw, received_at FROM unreadable_events WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(Int64(limit))
            """, logger: logger)
        var records: [UnreadableEventRecord] = []
        for try await (id, account, reason, raw, receivedAt) in rows.decode((Int64, String, String, String, Int64).self) {
            records.append(UnreadableEventRecord(id: id, account: account, reason: reason, raw: raw, receivedAt: Date(ms: receivedAt)))
        }
        return records
    }
}
