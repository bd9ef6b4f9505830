import Foundation
import PostgresNIO
import UniversalInbox

extension PostgresReportStore {
    /// The same reads as SQLite's (`SQLiteReportStore.serviceFigures`), in one read-only snapshot.
    public func serviceFigures(from: Date, to: Date) async throws -> ServiceFigures {
        let (start, end, slot) = (from.ms, to.ms, ServiceFigures.slotMilliseconds)
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var agents: [AgentName] = []
            for try await (id, name) in try await connection.query("SELECT id, name FROM agents ORDER BY id", logger: logger).decode((Int64, String).self) {
                agents.append(AgentName(id: id, name: name))
            }
            var tickets: [TicketTiming] = []
            for try await (id, openedAt, agentId, resolvedAt, channel, firstAt, firstAuthor) in try await connection.query("""
                WITH r AS (SELECT ticket_id, min(created_at) AS resolved_at FROM ticket_events
                           WHERE kind = 'status' AND detail::jsonb ->> 'to' = 'resolved' GROUP BY ticket_id)
                SELECT t.id, t.created_at, t.agent_id, r.resolved_at,
                    (SELECT m.channel FROM messages m WHERE m.ticket_id = t.id ORDER BY m.id LIMIT 1),
                    f.created_at, f.author
                FROM tickets t LEFT JOIN r ON r.ticket_id = t.id
                LEFT JOIN messages f ON f.id = (SELECT m.id FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'out'
                                                AND (m.author LIKE 'agent:%' OR m.author LIKE 'slack:%') ORDER BY m.created_at, m.id LIMIT 1)
                WHERE t.merged_into IS NULL AND ((t.created_at >= \(start) AND t.created_at < \(end)) OR (r.resolved_at >= \(start) AND r.resolved_at < \(end)))
                ORDER BY t.id
                """, logger: logger).decode((Int64, Int64, Int64?, Int64?, String?, Int64?, String?).self) {
                tickets.append(TicketTiming(
                    ticketId: id, openedAt: openedAt, channel: channel, agentId: agentId, firstResponseAt: firstAt,
                    firstResponderId: TicketTiming.agentId(author: firstAuthor), resolvedAt: resolvedAt))
            }
            var ratings: [RatingTime] = []
            for try await (ratedAt, rating) in try await connection.query("""
                SELECT rated_at, rating FROM ratings WHERE rated_at >= \(start) AND rated_at < \(end) AND rating IS NOT NULL ORDER BY rated_at
                """, logger: logger).decode((Int64, String).self) {
                if let rating = Rating(rawValue: rating) { ratings.append(RatingTime(ratedAt: ratedAt, rating: rating)) }
            }
            var slots: [SlotCount] = []
            for try await (number, count) in try await connection.query("""
                SELECT created_at / \(slot), count(*) FROM messages WHERE direction = 'in' AND created_at >= \(start) AND created_at < \(end)
                GROUP BY 1 ORDER BY 1
                """, logger: logger).decode((Int64, Int64).self) {
                slots.append(SlotCount(slot: number, count: Int(count)))
            }
            return ServiceFigures(agents: agents, tickets: tickets, ratings: ratings, inboundSlots: slots)
        }
    }
}
