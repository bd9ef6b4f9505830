import Foundation
import PostgresNIO
import UniversalInbox

extension PostgresReportStore {
    public func setDailySummary(agentId: Int64, enabled: Bool) async throws {
        if enabled {
            try await client.query("INSERT INTO report_summary_recipients (agent_id) VALUES (\(agentId)) ON CONFLICT DO NOTHING", logger: logger)
        } else {
            try await client.query("DELETE FROM report_summary_recipients WHERE agent_id = \(agentId)", logger: logger)
        }
    }

    public func dailySummaryAgentIds() async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await client.query("SELECT agent_id FROM report_summary_recipients ORDER BY agent_id", logger: logger).decode(Int64.self) {
            ids.append(id)
        }
        return ids
    }

    public func claimDailySummary(day: String, now: Date) async throws -> Bool {
        var claimed = false
        for try await _ in try await client.query("""
            INSERT INTO report_summaries (day, sent_at) VALUES (\(day), \(now.ms)) ON CONFLICT DO NOTHING RETURNING day
            """, logger: logger).decode(String.self) { claimed = true }
        return claimed
    }
}
