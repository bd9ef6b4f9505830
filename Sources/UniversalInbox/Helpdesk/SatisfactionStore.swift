import Foundation
import GRDB

/// What the satisfaction survey reads: resolved tickets still to be asked, and the answers a
/// contact gave. One implementation per database (`SQLiteSatisfactionStore` below,
/// `PostgresSatisfactionStore` in PostgresStore), held to one contract (Tests/StoreTests). Who may
/// see an answer is the domain's (`Inbox.answeredRatings`). (Asking goes out with a reply and
/// answers come in with a webhook: those stay with the outbox and ingest writers.)
public protocol SatisfactionStore: Sendable {
    /// Tickets resolved at or after `since` and still resolved that have had no rating request,
    /// earliest resolved first, up to `limit`.
    func ticketsAwaitingRatingRequest(resolvedSince since: Date, limit: Int) async throws -> [Int64]

    /// The answered ratings on the contact's tickets (found through the tickets, so ratings follow
    /// tickets a contact link moved), newest answer first, with what the access check needs.
    func answeredRatings(contactId: Int64) async throws -> [AnsweredRating]
}

/// A customer's answer to a rating request, with the ticket's assignee and department.
public struct AnsweredRating: Sendable, Equatable {
    public var ticketId: Int64
    public var rating: String
    public var answeredAt: Date
    public var agentId: Int64?
    public var departmentId: Int64?

    public init(ticketId: Int64, rating: String, answeredAt: Date, agentId: Int64?, departmentId: Int64?) {
        self.ticketId = ticketId
        self.rating = rating
        self.answeredAt = answeredAt
        self.agentId = agentId
        self.departmentId = departmentId
    }
}

/// `SatisfactionStore` on SQLite.
public struct SQLiteSatisfactionStore: SatisfactionStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func ticketsAwaitingRatingRequest(resolvedSince since: Date, limit: Int) async throws -> [Int64] {
        try await database.pool.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT t.id FROM tickets t WHERE t.status = 'resolved' AND t.resolved_at >= ?
                    AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = t.id)
                ORDER BY t.resolved_at LIMIT ?
                """, arguments: [since.ms, limit])
        }
    }

    public func answeredRatings(contactId: Int64) async throws -> [AnsweredRating] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.ticket_id, r.rating, r.rated_at, t.agent_id, t.department_id
                FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                WHERE t.contact_id = ? AND r.rating IS NOT NULL AND r.rated_at IS NOT NULL
                ORDER BY r.rated_at DESC, r.ticket_id DESC
                """, arguments: [contactId]
            ).map {
                AnsweredRating(
                    ticketId: $0["ticket_id"], rating: $0["rating"], answeredAt: Date(ms: $0["rated_at"]), agentId: $0["agent_id"],
                    departmentId: $0["department_id"])
            }
        }
    }
}
