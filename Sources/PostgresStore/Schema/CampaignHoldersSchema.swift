extension PostgresSchema {
    /// Migration 22, the twin of SQLite's v36: the process holding each recipient in flight.
    static let campaignHolders = [
        "ALTER TABLE campaign_recipients ADD COLUMN holder TEXT",
        "CREATE INDEX campaign_recipients_sending ON campaign_recipients (holder) WHERE status = 'sending'",
        "CREATE INDEX campaign_recipients_interrupted ON campaign_recipients (campaign_id, batch_key) WHERE status = 'pending' AND batch_key IS NOT NULL",
    ]
}
