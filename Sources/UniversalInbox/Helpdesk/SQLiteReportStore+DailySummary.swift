import Foundation
import GRDB

extension Schema {
    /// v28: who gets the daily summary e-mail, and the days already sent (so a day goes out once,
    /// whichever process sends it).
    static let reportSummaries = """
        CREATE TABLE report_summary_recipients (agent_id INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE);
        CREATE TABLE report_summaries (day TEXT PRIMARY KEY, sent_at INTEGER NOT NULL);
        """
}

extension SQLiteReportStore {
    public func setDailySummary(agentId: Int64, enabled: Bool) async throws {
        try await database.pool.write { db in
            if enabled {
                try db.execute(sql: "INSERT OR IGNORE INTO report_summary_recipients (agent_id) VALUES (?)", arguments: [agentId])
            } else {
                try db.execute(sql: "DELETE FROM report_summary_recipients WHERE agent_id = ?", arguments: [agentId])
            }
        }
    }

    public func dailySummaryAgentIds() async throws -> [Int64] {
        try await database.pool.read { db in try Int64.fetchAll(db, sql: "SELECT agent_id FROM report_summary_recipients ORDER BY agent_id") }
    }

    public func claimDailySummary(day: String, now: Date) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO report_summaries (day, sent_at) VALUES (?, ?)", arguments: [day, now.ms])
            return db.changesCount == 1
        }
    }
}
