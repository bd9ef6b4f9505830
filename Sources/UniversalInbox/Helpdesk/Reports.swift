import Foundation
import GRDB

/// How each agent served customers in a period.
///
/// - `ticketsHandled`: tickets the agent wrote at least one reply in, in the period.
/// - `medianFirstResponseSeconds`: for tickets opened in the period whose first reply was the
///   agent's, the median time from the customer's first message to that reply.
/// - `ticketsResolved` / `medianResolutionSeconds`: tickets assigned to the agent first resolved in
///   the period, and the median time from opening to that resolution.
/// - `resolutionRate`: of the tickets opened in the period and assigned to the agent, the share
///   resolved (or closed) since.
/// - `satisfaction`: good ratings / all ratings given in the period for the agent's tickets.
/// - `rank`: by tickets resolved, then satisfaction, then first response (faster first).
public struct AgentReport: Sendable, Equatable, Codable {
    public var agentId: Int64
    public var name: String
    public var ticketsHandled: Int
    public var ticketsResolved: Int
    public var medianFirstResponseSeconds: Double?
    public var medianResolutionSeconds: Double?
    public var resolutionRate: Double?
    public var ratingsGood: Int
    public var ratingsBad: Int
    public var satisfaction: Double?
    public var rank: Int
}

/// Volume on one channel in a period: tickets opened there, messages in and out.
public struct ChannelReport: Sendable, Equatable, Codable {
    public var channel: String
    public var newTickets: Int
    public var inboundMessages: Int
    public var outboundMessages: Int

    public init(channel: String, newTickets: Int, inboundMessages: Int, outboundMessages: Int) {
        self.channel = channel
        self.newTickets = newTickets
        self.inboundMessages = inboundMessages
        self.outboundMessages = outboundMessages
    }
}

/// What a report is worked out from, one row per agent (`ReportStore.agentFigures`): the counts,
/// and the single durations in ms that the medians are taken of.
public struct AgentFigures: Sendable, Equatable {
    public var agentId: Int64
    public var name: String
    public var ticketsHandled: Int
    /// For tickets opened in the period whose first agent reply was this agent's: ms from opening to it.
    public var firstResponses: [Int64]
    /// For tickets assigned to the agent first resolved in the period: ms from opening to that.
    public var resolutions: [Int64]
    /// Tickets opened in the period and assigned to the agent, and how many of them are resolved or closed.
    public var assigned: Int
    public var assignedDone: Int
    public var ratingsGood: Int
    public var ratingsBad: Int

    public init(
        agentId: Int64, name: String, ticketsHandled: Int, firstResponses: [Int64], resolutions: [Int64], assigned: Int, assignedDone: Int,
        ratingsGood: Int, ratingsBad: Int
    ) {
        self.agentId = agentId
        self.name = name
        self.ticketsHandled = ticketsHandled
        self.firstResponses = firstResponses
        self.resolutions = resolutions
        self.assigned = assigned
        self.assignedDone = assignedDone
        self.ratingsGood = ratingsGood
        self.ratingsBad = ratingsBad
    }
}

/// The reads behind the reports, for a period `[from, to)`. One implementation per database
/// (`SQLiteReportStore` below, `PostgresReportStore` in PostgresStore), held to one contract
/// (Tests/StoreTests); the domain (`Inbox.agentReport`) works out medians, rates and ranks.
public protocol ReportStore: Sendable {
    /// Every agent's figures, in id order.
    func agentFigures(from: Date, to: Date) async throws -> [AgentFigures]
    /// Each channel's volume: tickets opened there (a ticket counts on the channel it was opened
    /// on; merged ones not at all), messages in and out; in no particular order.
    func channelVolumes(from: Date, to: Date) async throws -> [ChannelReport]
    /// What the service report is worked out from (`ServiceFigures`), read in one snapshot.
    func serviceFigures(from: Date, to: Date) async throws -> ServiceFigures
    /// Opts an agent in to (or out of) the daily summary e-mail.
    func setDailySummary(agentId: Int64, enabled: Bool) async throws
    /// The agents opted in to the daily summary, in id order.
    func dailySummaryAgentIds() async throws -> [Int64]
    /// Claims the summary of local day `day` (`yyyy-MM-dd`) for sending: true for the one caller
    /// that claims it first, in whichever process; false ever after, so a day goes out once.
    func claimDailySummary(day: String, now: Date) async throws -> Bool
}

extension Inbox {
    public func agentReport(from: Date, to: Date) async throws -> [AgentReport] {
        let reports = try await stores.reportStore.agentFigures(from: from, to: to).map { figures in
            let (good, bad) = (figures.ratingsGood, figures.ratingsBad)
            return AgentReport(
                agentId: figures.agentId, name: figures.name, ticketsHandled: figures.ticketsHandled, ticketsResolved: figures.resolutions.count,
                medianFirstResponseSeconds: Self.median(figures.firstResponses), medianResolutionSeconds: Self.median(figures.resolutions),
                resolutionRate: figures.assigned == 0 ? nil : Double(figures.assignedDone) / Double(figures.assigned),
                ratingsGood: good, ratingsBad: bad, satisfaction: good + bad == 0 ? nil : Double(good) / Double(good + bad), rank: 0)
        }
        let ranked = reports.sorted {
            ($0.ticketsResolved, $0.satisfaction ?? -1, -($0.medianFirstResponseSeconds ?? .infinity), -$0.agentId)
                > ($1.ticketsResolved, $1.satisfaction ?? -1, -($1.medianFirstResponseSeconds ?? .infinity), -$1.agentId)
        }
        return ranked.enumerated().map { index, report in
            var report = report
            report.rank = index + 1
            return report
        }
    }

    public func channelReport(from: Date, to: Date) async throws -> [ChannelReport] {
        try await stores.reportStore.channelVolumes(from: from, to: to).sorted { ($0.newTickets, $0.channel) > ($1.newTickets, $1.channel) }
    }

    static func median(_ values: [Int64]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        let ms = sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
        return ms / 1000
    }
}

/// `ReportStore` on the SQLite database.
public struct SQLiteReportStore: ReportStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func agentFigures(from: Date, to: Date) async throws -> [AgentFigures] {
        let (start, end) = (from.ms, to.ms)
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name FROM agents ORDER BY id").map { agent in
                let id: Int64 = agent["id"]
                let author = "agent:\(id)"
                let handled = try Int.fetchOne(db, sql: """
                    SELECT count(DISTINCT ticket_id) FROM messages WHERE direction = 'out' AND author = ? AND created_at >= ? AND created_at < ?
                    """, arguments: [author, start, end]) ?? 0
                // The first agent reply of each ticket opened in the period, if it was this agent's.
                let firstResponses = try Int64.fetchAll(db, sql: """
                    SELECT f.first_at - t.created_at FROM tickets t
                    JOIN (SELECT ticket_id, min(created_at) AS first_at FROM messages
                          WHERE direction = 'out' AND (author LIKE 'agent:%' OR author LIKE 'slack:%') GROUP BY ticket_id) f ON f.ticket_id = t.id
                    WHERE t.created_at >= ? AND t.created_at < ?
                        AND (SELECT author FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'out' AND m.created_at = f.first_at
                             AND (m.author LIKE 'agent:%' OR m.author LIKE 'slack:%') ORDER BY m.id LIMIT 1) = ?
                    """, arguments: [start, end, author])
                let resolutions = try Int64.fetchAll(db, sql: """
                    SELECT r.resolved_at - t.created_at FROM tickets t
                    JOIN (SELECT ticket_id, min(created_at) AS resolved_at FROM ticket_events
                          WHERE kind = 'status' AND json_extract(detail, '$.to') = 'resolved' GROUP BY ticket_id) r ON r.ticket_id = t.id
                    WHERE t.agent_id = ? AND r.resolved_at >= ? AND r.resolved_at < ?
                    """, arguments: [id, start, end])
                let assigned = try Row.fetchOne(db, sql: """
                    SELECT count(*) AS total, sum(CASE WHEN status IN ('resolved', 'closed') THEN 1 ELSE 0 END) AS done
                    FROM tickets WHERE agent_id = ? AND created_at >= ? AND created_at < ? AND merged_into IS NULL
                    """, arguments: [id, start, end])
                let ratings = try Row.fetchOne(db, sql: """
                    SELECT sum(CASE WHEN rating = 'good' THEN 1 ELSE 0 END) AS good, sum(CASE WHEN rating = 'bad' THEN 1 ELSE 0 END) AS bad
                    FROM ratings WHERE agent_id = ? AND rated_at >= ? AND rated_at < ?
                    """, arguments: [id, start, end])
                return AgentFigures(
                    agentId: id, name: agent["name"], ticketsHandled: handled, firstResponses: firstResponses, resolutions: resolutions,
                    assigned: assigned?["total"] ?? 0, assignedDone: assigned?["done"] ?? 0, ratingsGood: ratings?["good"] ?? 0,
                    ratingsBad: ratings?["bad"] ?? 0)
            }
        }
    }

    public func channelVolumes(from: Date, to: Date) async throws -> [ChannelReport] {
        let (start, end) = (from.ms, to.ms)
        return try await database.pool.read { db in
            var byChannel: [String: ChannelReport] = [:]
            func entry(_ channel: String) -> ChannelReport { byChannel[channel] ?? ChannelReport(channel: channel, newTickets: 0, inboundMessages: 0, outboundMessages: 0) }
            for row in try Row.fetchAll(db, sql: """
                SELECT tc.channel, count(*) AS n FROM tickets t
                JOIN ticket_channels tc ON tc.rowid = (SELECT min(rowid) FROM ticket_channels WHERE ticket_id = t.id)
                WHERE t.created_at >= ? AND t.created_at < ? AND t.merged_into IS NULL GROUP BY tc.channel
                """, arguments: [start, end]) {
                var report = entry(row["channel"])
                report.newTickets = row["n"]
                byChannel[report.channel] = report
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT channel, direction, count(*) AS n FROM messages WHERE created_at >= ? AND created_at < ? GROUP BY channel, direction
                """, arguments: [start, end]) {
                var report = entry(row["channel"])
                if row["direction"] == MessageDirection.inbound.rawValue { report.inboundMessages = row["n"] } else { report.outboundMessages = row["n"] }
                byChannel[report.channel] = report
            }
            return Array(byChannel.values)
        }
    }
}
