extension PostgresSchema {
    /// Migration 22, the twin of SQLite's v36: the process holding each recipient in flight.
    static let campaignHolders = [
        "ALTER TABLE campaign_recipients ADD COLUMN holder TEXT",
        "CREATE INDEX campaign_recipients_sending ON campaign_recipients (holder) WHERE status = 'sending'",
    ]
}
