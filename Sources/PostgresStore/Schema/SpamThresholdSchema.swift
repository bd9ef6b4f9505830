extension PostgresSchema {
    /// Migration 18, SQLite's v32-spam-threshold: the spam threshold an owner or admin set in the
    /// console (`PUT /api/v1/spam`); NULL is bridge.yaml's `spam.threshold`.
    static let spamThreshold = [
        "ALTER TABLE spam_state ADD COLUMN threshold DOUBLE PRECISION"
    ]
}
