extension Schema {
    /// v36: which process holds a recipient it marked `sending` (`RunOnceLeaser.holder`), so every
    /// process can send campaigns: recipients a dead process held are settled by the others, and an
    /// outcome only lands on a row its writer still holds. The partial index finds the rows in flight.
    static let campaignHolders = """
        ALTER TABLE campaign_recipients ADD COLUMN holder TEXT;
        CREATE INDEX campaign_recipients_sending ON campaign_recipients(holder) WHERE status = 'sending';
        """
}
