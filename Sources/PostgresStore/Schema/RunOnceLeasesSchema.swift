extension PostgresSchema {
    /// Run-once leases (SQLite v25, `UniversalInbox/Store/RunOnceLeases.swift`).
    static let runOnceLeases = [
        """
        CREATE TABLE run_once_leases (
            duty TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at BIGINT NOT NULL
        )
        """,
    ]
}
