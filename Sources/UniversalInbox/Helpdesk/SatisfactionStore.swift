import ChannelKit
import Foundation
import GRDB

/// What the satisfaction survey reads: resolved tickets still to be asked, and the answers a
/// contact gave. One implementation per database (`SQLiteSatisfactionStore` below,
/// `PostgresSatisfactionStore` in PostgresStore), held to one contract (Tests/StoreTests). Who may
/// see an answer is the domain's (`Inbox.answeredRatings`). (Answers come in with a webhook: that
/// stays with the ingest writer.)
public protocol SatisfactionStore: Sendable {
    /// Tickets resolved at or after `since` and still resolved that have had no rating request,
    /// earliest resolved first, up to `limit`.
    func ticketsAwaitingRatingRequest(resolvedSince since: Date, limit: Int) async throws -> [Int64]

    /// The answered ratings on the contact's tickets (found through the tickets, so ratings follow
    /// tickets a contact link moved), newest answer first, with what the access check needs.
    func answeredRatings(contactId: Int64) async throws -> [AnsweredRating]

    /// Asks the customer of a resolved ticket to rate it, once per ticket: the question (with its
    /// `choices`) is queued as the bridge's message and the request recorded (`ratings`, for the
    /// ticket's agent) in one transaction. When `vet` refuses it, the refusal is recorded instead
    /// (`not_sent`, with its reason). Returns the message id; nil when nothing was queued (no such
    /// ticket, not resolved, already asked, or refused).
    func requestRating(
        ticketId: Int64, question: String, choices: [MessageContent.Choice], now: Date, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64?
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

// MARK: - Rating requests on SQLite

extension SQLiteSatisfactionStore {
    public func requestRating(
        ticketId: Int64, question: String, choices: [MessageContent.Choice], now: Date, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64? {
        try await database.pool.write { db in
            guard let ticket = try Row.fetchOne(db, sql: "SELECT status, contact_id, agent_id FROM tickets WHERE id = ?", arguments: [ticketId]),
                ticket["status"] == TicketStatus.resolved.rawValue,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM ratings WHERE ticket_id = ?", arguments: [ticketId]) == nil
            else { return nil }
            let record = { (state: String, reason: String?) in
                try db.execute(sql: """
                    INSERT INTO ratings (ticket_id, contact_id, agent_id, requested_at, state, reason, choices) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [ticketId, ticket["contact_id"] as Int64, ticket["agent_id"] as Int64?, now.ms, state, reason, try ContentCoding.encode(choices)])
            }
            do {
                let id = try SQLiteOutboxStore.insertReply(
                    db, ticketId: ticketId, content: MessageContent(kind: .text, text: question, choices: choices), channel: nil, author: "system",
                    now: now, vet: vet)
                try record("requested", nil)
                return id
            } catch InboxError.refused(let refusal) {
                try record("not_sent", refusal.reason)
                return nil
            }
        }
    }
}
