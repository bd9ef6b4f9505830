extension Schema {
    /// v27: channel accounts added from the console (`ChannelAccountStore`), the version every
    /// process compares to know its adapters are current, and every account's activity.
    static let channelAccounts = """
        CREATE TABLE channel_accounts (
            kind TEXT NOT NULL,
            account_id TEXT NOT NULL,
            settings TEXT NOT NULL,
            sealed_secrets TEXT NOT NULL,
            secret_hints TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (kind, account_id)
        ) WITHOUT ROWID;
        CREATE TABLE channel_accounts_version (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL
        );
        INSERT INTO channel_accounts_version (id, version) VALUES (1, 0);
        CREATE TABLE channel_activity (
            account TEXT PRIMARY KEY,
            last_webhook_at INTEGER,
            last_send_error TEXT,
            last_send_error_at INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE channel_refusals (
            account TEXT NOT NULL,
            minute INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (account, minute)
        ) WITHOUT ROWID;
        """
}
