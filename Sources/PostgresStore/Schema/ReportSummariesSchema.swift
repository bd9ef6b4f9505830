extension PostgresSchema {
    /// Daily summary recipients and the days sent (SQLite v28, `SQLiteReportStore+DailySummary.swift`).
    static let reportSummaries = [
        "CREATE TABLE report_summary_recipients (agent_id BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE)",
        "CREATE TABLE report_summaries (day TEXT PRIMARY KEY, sent_at BIGINT NOT NULL)",
    ]
}
