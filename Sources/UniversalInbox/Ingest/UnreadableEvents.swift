import ChannelKit
import Foundation
import GRDB

/// A kept platform event the bridge could not read, for an admin to look at.
public struct UnreadableEventRecord: Sendable, Codable, Equatable {
    public var id: Int64
    /// `kind/id` of the channel account it came to.
    public var account: String
    public var reason: String
    public var raw: String
    public var receivedAt: Date
}

extension Inbox {
    /// Kept unreadable events, newest first, older than `before` (an id) when given.
    public func unreadableEvents(limit: Int, before: Int64? = nil) async throws -> [UnreadableEventRecord] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM unreadable_events WHERE id < ? ORDER BY id DESC LIMIT ?",
                arguments: [before ?? Int64.max, limit]
            ).map {
                UnreadableEventRecord(
                    id: $0["id"], account: $0["account"], reason: $0["reason"], raw: $0["raw"], receivedAt: Date(ms: $0["received_at"]))
            }
        }
    }
}
