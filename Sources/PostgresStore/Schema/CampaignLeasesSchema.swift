extension PostgresSchema {
    /// Campaign recipients in flight carry a lease (SQLite v27, `CampaignLeases.sql`): every process
    /// sends, and recovery settles only the `sending` rows whose holder stopped renewing them.
    /// Recovery finds them by the partial index (only rows in flight are in it).
    static let campaignLeases = [
        "ALTER TABLE campaign_recipients ADD COLUMN leased_until BIGINT",
        "CREATE INDEX campaign_recipients_sending ON campaign_recipients (leased_until) WHERE status = 'sending'",
    ]
}
