extension Schema {
    /// v38: addresses widget visitors typed before they had to confirm them are dropped from the
    /// contacts whose only identities are website visitors: nothing showed they were the
    /// visitor's, and mail from an address joins the contact that has it.
    static let unconfirmedVisitorAddresses = """
        UPDATE contacts SET email = NULL WHERE email IS NOT NULL AND id IN (
            SELECT contact_id FROM identities GROUP BY contact_id HAVING min(channel) = 'webchat' AND max(channel) = 'webchat');
        """
}
