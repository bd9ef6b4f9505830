extension PostgresSchema {
    /// SQLite v29: the retention periods (one row; NULL keeps forever), the audit log of settings
    /// changes, and the indexes the health page and the retention run read by.
    static let auditRetention = [
        """
        CREATE TABLE retention_settings (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            messages_days INTEGER,
            attachments_days INTEGER,
            updated_at BIGINT NOT NULL
        )
        """,
        "INSERT INTO retention_settings (id, messages_days, attachments_days, updated_at) VALUES (1, NULL, NULL, 0)",
        """
        CREATE TABLE audit_log (
            id \(id),
            at BIGINT NOT NULL,
            actor_id BIGINT,
            actor_name TEXT NOT NULL,
            actor_role TEXT NOT NULL,
            method TEXT NOT NULL,
            route TEXT NOT NULL,
            target_id TEXT,
            summary TEXT NOT NULL,
            status INTEGER NOT NULL
        )
        """,
        "CREATE INDEX messages_failed ON messages (updated_at) WHERE status = 'failed'",
        "CREATE INDEX attachments_created ON attachments (created_at, id)",
    ]
}
