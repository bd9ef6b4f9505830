extension PostgresSchema {
    /// Channel accounts added from the console and every account's activity (SQLite v27,
    /// `UniversalInbox/ChannelAccounts/ChannelAccountStore.swift`).
    static let channelAccounts = [
        """
        CREATE TABLE channel_accounts (
            kind TEXT NOT NULL,
            account_id TEXT NOT NULL,
            settings TEXT NOT NULL,
            sealed_secrets TEXT NOT NULL,
            secret_hints TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (kind, account_id)
        )
        """,
        """
        CREATE TABLE channel_accounts_version (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version BIGINT NOT NULL
        )
        """,
        "INSERT INTO channel_accounts_version (id, version) VALUES (1, 0)",
        """
        CREATE TABLE channel_activity (
            account TEXT PRIMARY KEY,
            last_webhook_at BIGINT,
            last_send_error TEXT,
            last_send_error_at BIGINT
        )
        """,
        """
        CREATE TABLE channel_refusals (
            account TEXT NOT NULL,
            minute BIGINT NOT NULL,
            count BIGINT NOT NULL,
            PRIMARY KEY (account, minute)
        )
        """,
    ]
}
