import ChannelKit
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

// MARK: - Rating requests on PostgreSQL

extension PostgresSatisfactionStore {
    /// The ticket's row is locked (after `event_seq`: the request writes a message and may move the
    /// ticket), so of two processes asking at once the second finds the first's `ratings` row.
    public func requestRating(
        ticketId: Int64, question: String, choices: [MessageContent.Choice], now: Date, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64? {
        let storedChoices = try ContentCoding.encode(choices)
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let tickets = try await connection.query("""
                SELECT status, last_identity_id, contact_id, agent_id FROM tickets WHERE id = \(ticketId) FOR UPDATE
                """, logger: logger).decode((String, Int64, Int64, Int64?).self).all()
            guard let (status, lastIdentity, contactId, agentId) = tickets.first, status == TicketStatus.resolved.rawValue else { return nil }
            // Read under the lock: a request committed while this one waited for it is seen.
            let asked = try await connection.query("SELECT 1 FROM ratings WHERE ticket_id = \(ticketId)", logger: logger).decode(Int32.self).all()
            guard asked.isEmpty else { return nil }
            var state = "requested"
            var reason: String?
            var messageId: Int64?
            do {
                messageId = try await PostgresOutboxStore.insertReply(
                    on: connection, ticketId: ticketId, status: status, lastIdentity: lastIdentity,
                    content: MessageContent(kind: .text, text: question, choices: choices), channel: nil, author: "system", now: now, vet: vet,
                    logger: logger)
            } catch InboxError.refused(let refusal) {
                // Refused before anything was written: the transaction goes on to record why.
                state = "not_sent"
                reason = refusal.reason
            }
            try await connection.query("""
                INSERT INTO ratings (ticket_id, contact_id, agent_id, requested_at, state, reason, choices)
                VALUES (\(ticketId), \(contactId), \(agentId), \(now.ms), \(state), \(reason), \(storedChoices))
                """, logger: logger)
            return messageId
        }
    }
}
