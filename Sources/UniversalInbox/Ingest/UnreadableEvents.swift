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

    public init(id: Int64, account: String, reason: String, raw: String, receivedAt: Date) {
        self.id = id
        self.account = account
        self.reason = reason
        self.raw = raw
        self.receivedAt = receivedAt
    }
}

extension UnreadableEvent {
    /// Kept unreadable events: the newest this many per account.
    public static let keptPerAccount = 10_000
    /// At most this many bytes of an unreadable event's text are kept.
    public static let maxRawBytes = 64 << 10

    /// What an `IngestStore` keeps of the event: its reason (at most 500 characters), its text (a
    /// longer one cut to `maxRawBytes` and marked "…"), and the digest of the whole text that keeps
    /// an event once per account.
    public var kept: (reason: String, raw: String, digest: String) {
        let raw = raw.utf8.count <= Self.maxRawBytes ? raw : String(decoding: raw.utf8.prefix(Self.maxRawBytes), as: UTF8.self) + "…"
        return (String(reason.prefix(500)), raw, Signatures.sha256Hex(Data(self.raw.utf8)))
    }
}

extension Inbox {
    /// Kept unreadable events, newest first, older than `before` (an id) when given.
    public func unreadableEvents(limit: Int, before: Int64? = nil) async throws -> [UnreadableEventRecord] {
        try await stores.ingestStore.unreadableEvents(limit: limit, before: before)
    }
}

extension SQLiteIngestStore {
    public func unreadableEvents(limit: Int, before: Int64?) async throws -> [UnreadableEventRecord] {
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
