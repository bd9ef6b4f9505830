import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `SatisfactionStore` on PostgreSQL (reads only).
public struct PostgresSatisfactionStore: SatisfactionStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func ticketsAwaitingRatingRequest(resolvedSince since: Date, limit: Int) async throws -> [Int64] {
        try await client.query("""
            SELECT t.id FROM tickets t WHERE t.status = 'resolved' AND t.resolved_at >= \(since.ms)
                AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = t.id)
            ORDER BY t.resolved_at LIMIT \(Int64(limit))
            """, logger: logger).decode(Int64.self).all()
    }

    public func answeredRatings(contactId: Int64) async throws -> [AnsweredRating] {
        let rows = try await client.query("""
            SELECT r.ticket_id, r.rating, r.rated_at, t.agent_id, t.department_id
            FROM ratings r JOIN tickets t ON t.id = r.ticket_id
            WHERE t.contact_id = \(contactId) AND r.rating IS NOT NULL AND r.rated_at IS NOT NULL
            ORDER BY r.rated_at DESC, r.ticket_id DESC
            """, logger: logger)
        var answers: [AnsweredRating] = []
        for try await (ticketId, rating, ratedAt, agentId, departmentId) in rows.decode((Int64, String, Int64, Int64?, Int64?).self) {
            answers.append(AnsweredRating(ticketId: ticketId, rating: rating, answeredAt: Date(ms: ratedAt), agentId: agentId, departmentId: departmentId))
        }
        return answers
    }
}
