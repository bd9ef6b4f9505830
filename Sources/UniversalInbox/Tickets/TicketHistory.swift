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
}

extension Inbox {
    /// A ticket's history, oldest first, or `nil` if there is no such ticket.
    public func history(ticketId: Int64) async throws -> [TicketHistoryEntry]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            return try Row.fetchAll(db, sql: "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", arguments: [ticketId]).map { row in
                TicketHistoryEntry(
                    id: row["id"], kind: row["kind"], actor: row["actor"],
                    detail: (try? ContentCoding.decode([String: String].self, row["detail"])) ?? [:],
                    createdAt: Date(ms: row["created_at"]))
            }
        }
    }

    /// Appends to a ticket's history inside the caller's transaction.
    static func record(_ db: Database, ticketId: Int64, _ kind: String, by actor: String, _ detail: [String: String?] = [:], at now: Int64) throws {
        try db.execute(
            sql: "INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [ticketId, kind, actor, try ContentCoding.encode(detail.compactMapValues { $0 }), now])
    }
}
