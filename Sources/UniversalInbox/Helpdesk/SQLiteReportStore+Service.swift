import Foundation
import GRDB

extension SQLiteReportStore {
    public func serviceFigures(from: Date, to: Date) async throws -> ServiceFigures {
        let (start, end) = (from.ms, to.ms)
        return try await database.pool.read { db in
            let agents = try Row.fetchAll(db, sql: "SELECT id, name FROM agents ORDER BY id").map { AgentName(id: $0["id"], name: $0["name"]) }
            let tickets = try Row.fetchAll(db, sql: Self.ticketTimingsSQL, arguments: [start, end, start, end]).map { row in
                TicketTiming(
                    ticketId: row["id"], openedAt: row["created_at"], channel: row["channel"], agentId: row["agent_id"], firstResponseAt: row["first_at"],
                    firstResponderId: TicketTiming.agentId(author: row["first_author"]), resolvedAt: row["resolved_at"])
            }
            let ratings = try Row.fetchAll(db, sql: """
                SELECT rated_at, rating FROM ratings WHERE rated_at >= ? AND rated_at < ? AND rating IS NOT NULL ORDER BY rated_at
                """, arguments: [start, end]).compactMap { row in
                (row["rating"] as String?).flatMap(Rating.init(rawValue:)).map { RatingTime(ratedAt: row["rated_at"], rating: $0) }
            }
            let slots = try Row.fetchAll(db, sql: """
                SELECT created_at / ? AS slot, count(*) AS n FROM messages WHERE direction = 'in' AND created_at >= ? AND created_at < ?
                GROUP BY slot ORDER BY slot
                """, arguments: [ServiceFigures.slotMilliseconds, start, end]).map { SlotCount(slot: $0["slot"], count: $0["n"]) }
            return ServiceFigures(agents: agents, tickets: tickets, ratings: ratings, inboundSlots: slots)
        }
    }

    /// Tickets (not merged away) opened in `[?, ?)` or first resolved in `[?, ?)`, with the channel
    /// of their first message, their first agent reply and its author, and their first resolution.
    static let ticketTimingsSQL = """
        WITH r AS (SELECT ticket_id, min(created_at) AS resolved_at FROM ticket_events
                   WHERE kind = 'status' AND json_extract(detail, '$.to') = 'resolved' GROUP BY ticket_id)
        SELECT t.id, t.created_at, t.agent_id, r.resolved_at,
            (SELECT m.channel FROM messages m WHERE m.ticket_id = t.id ORDER BY m.id LIMIT 1) AS channel,
            f.created_at AS first_at, f.author AS first_author
        FROM tickets t LEFT JOIN r ON r.ticket_id = t.id
        LEFT JOIN messages f ON f.id = (SELECT m.id FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'out'
                                        AND (m.author LIKE 'agent:%' OR m.author LIKE 'slack:%') ORDER BY m.created_at, m.id LIMIT 1)
        WHERE t.merged_into IS NULL AND ((t.created_at >= ? AND t.created_at < ?) OR (r.resolved_at >= ? AND r.resolved_at < ?))
        ORDER BY t.id
        """
}
