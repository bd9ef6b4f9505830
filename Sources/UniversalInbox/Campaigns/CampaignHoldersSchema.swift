extension Schema {
    /// v36: which process holds a recipient it marked `sending` (`RunOnceLeaser.holder`), so every
    /// process can send campaigns: recipients a dead process held are settled by the others, and an
    /// outcome only lands on a row its writer still holds. The partial indexes find the rows in flight,
/// and an interrupted batch to claim (a claim looks for one under the campaign row's lock).
    static let campaignHolders = """
        ALTER TABLE campaign_recipients ADD COLUMN holder TEXT;
        CREATE INDEX campaign_recipients_sending ON campaign_recipients(holder) WHERE status = 'sending';
        CREATE INDEX campaign_recipients_interrupted ON campaign_recipients(campaign_id, batch_key) WHERE status = 'pending' AND batch_key IS NOT NULL;
        """
}
