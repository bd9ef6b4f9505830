import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `ReportStore` on PostgreSQL: the same reads as SQLite's, in one read-only snapshot
/// (`REPEATABLE READ`), so an agent's figures agree with each other while tickets change.
///
/// **The channel a ticket was opened on.** SQLite takes the ticket's oldest `ticket_channels`
/// row (its rowid); PostgreSQL rows have no insertion order, so here it is the ticket's channel
/// whose first message came first (the opening message's channel), the name breaking ties for a
/// ticket with no messages.
public struct PostgresReportStore: ReportStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func agentFigures(from: Date, to: Date) async throws -> [AgentFigures] {
        let (start, end) = (from.ms, to.ms)
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var agents: [(Int64, String)] = []
            for try await agent in try await connection.query("SELECT id, name FROM agents ORDER BY id", logger: logger).decode((Int64, String).self) {
                agents.append(agent)
            }
            var figures: [AgentFigures] = []
            for (id, name) in agents {
                let author = "agent:\(id)"
                var handled = 0
                for try await count in try await connection.query("""
                    SELECT count(DISTINCT ticket_id) FROM messages WHERE direction = 'out' AND author = \(author) AND created_at >= \(start) AND created_at < \(end)
                    """, logger: logger).decode(Int64.self) { handled = Int(count) }
                var firstResponses: [Int64] = []
                // The first agent reply of each ticket opened in the period, if it was this agent's.
                for try await value in try await connection.query("""
                    SELECT f.first_at - t.created_at FROM tickets t
                    JOIN (SELECT ticket_id, min(created_at) AS first_at FROM messages
                          WHERE direction = 'out' AND (author LIKE 'agent:%' OR author LIKE 'slack:%') GROUP BY ticket_id) f ON f.ticket_id = t.id
                    WHERE t.created_at >= \(start) AND t.created_at < \(end)
                        AND (SELECT author FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'out' AND m.created_at = f.first_at
                             AND (m.author LIKE 'agent:%' OR m.author LIKE 'slack:%') ORDER BY m.id LIMIT 1) = \(author)
                    """, logger: logger).decode(Int64.self) { firstResponses.append(value) }
                var resolutions: [Int64] = []
                for try await value in try await connection.query("""
                    SELECT r.resolved_at - t.created_at FROM tickets t
                    JOIN (SELECT ticket_id, min(created_at) AS resolved_at FROM ticket_events
                          WHERE kind = 'status' AND detail::jsonb ->> 'to' = 'resolved' GROUP BY ticket_id) r ON r.ticket_id = t.id
                    WHERE t.agent_id = \(id) AND r.resolved_at >= \(start) AND r.resolved_at < \(end)
                    """, logger: logger).decode(Int64.self) { resolutions.append(value) }
                var assigned = (total: 0, done: 0)
                for try await (total, done) in try await connection.query("""
                    SELECT count(*), sum(CASE WHEN status IN ('resolved', 'closed') THEN 1 ELSE 0 END)
                    FROM tickets WHERE agent_id = \(id) AND created_at >= \(start) AND created_at < \(end) AND merged_into IS NULL
                    """, logger: logger).decode((Int64, Int64?).self) { assigned = (Int(total), Int(done ?? 0)) }
                var ratings = (good: 0, bad: 0)
                for try await (good, bad) in try await connection.query("""
                    SELECT sum(CASE WHEN rating = 'good' THEN 1 ELSE 0 END), sum(CASE WHEN rating = 'bad' THEN 1 ELSE 0 END)
                    FROM ratings WHERE agent_id = \(id) AND rated_at >= \(start) AND rated_at < \(end)
                    """, logger: logger).decode((Int64?, Int64?).self) { ratings = (Int(good ?? 0), Int(bad ?? 0)) }
                figures.append(AgentFigures(
                    agentId: id, name: name, ticketsHandled: handled, firstResponses: firstResponses, resolutions: resolutions,
                    assigned: assigned.total, assignedDone: assigned.done, ratingsGood: ratings.good, ratingsBad: ratings.bad))
            }
            return figures
        }
    }

    public func channelVolumes(from: Date, to: Date) async throws -> [ChannelReport] {
        let (start, end) = (from.ms, to.ms)
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var byChannel: [String: ChannelReport] = [:]
            func entry(_ channel: String) -> ChannelReport { byChannel[channel] ?? ChannelReport(channel: channel, newTickets: 0, inboundMessages: 0, outboundMessages: 0) }
            for try await (channel, count) in try await connection.query("""
                SELECT opened.channel, count(*) FROM tickets t
                CROSS JOIN LATERAL (
                    SELECT tc.channel FROM ticket_channels tc WHERE tc.ticket_id = t.id
                    ORDER BY (SELECT min(m.id) FROM messages m WHERE m.ticket_id = t.id AND m.channel = tc.channel) NULLS LAST, tc.channel LIMIT 1
                ) opened
                WHERE t.created_at >= \(start) AND t.created_at < \(end) AND t.merged_into IS NULL GROUP BY opened.channel
                """, logger: logger).decode((String, Int64).self) {
                var report = entry(channel)
                report.newTickets = Int(count)
                byChannel[channel] = report
            }
            for try await (channel, direction, count) in try await connection.query("""
                SELECT channel, direction, count(*) FROM messages WHERE created_at >= \(start) AND created_at < \(end) GROUP BY channel, direction
                """, logger: logger).decode((String, String, Int64).self) {
                var report = entry(channel)
                if direction == MessageDirection.inbound.rawValue { report.inboundMessages = Int(count) } else { report.outboundMessages = Int(count) }
                byChannel[channel] = report
            }
            return Array(byChannel.values)
        }
    }
}
