import Foundation
import GRDB

/// One entry of a ticket's history: an assignment change, a status change, a merge...
public struct TicketHistoryEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var kind: String
    /// `agent:<id>`, `admin token`, `system`, or a console user.
    public var actor: String
    public var detail: [String: String]
    public var createdAt: Date

    public init(id: Int64, kind: String, actor: String, detail: [String: String], createdAt: Date) {
        self.id = id
        self.kind = kind
        self.actor = actor
        self.detail = detail
        self.createdAt = createdAt
    }

    /// An entry as stored: `detail` is a JSON object of strings (an unreadable one reads as empty).
    public init(id: Int64, kind: String, actor: String, detail json: String, createdAt: Date) {
        self.init(id: id, kind: kind, actor: actor, detail: (try? ContentCoding.decode([String: String].self, json)) ?? [:], createdAt: createdAt)
    }
}

extension Inbox {
    /// A ticket's history, oldest first, or `nil` if there is no such ticket.
    public func history(ticketId: Int64) async throws -> [TicketHistoryEntry]? {
        try await stores.ticketStore.history(ticketId: ticketId)
    }

    /// Appends to a ticket's history inside the caller's SQLite transaction.
    static func record(_ db: Database, ticketId: Int64, _ kind: String, by actor: String, _ detail: [String: String?] = [:], at now: Int64) throws {
        try SQLiteTicketStore.record(db, ticketId: ticketId, kind, by: actor, detail, at: now)
    }
}
