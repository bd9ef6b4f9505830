extension PostgresSchema {
    /// Migration 24, the twin of SQLite's v38: addresses widget visitors typed unconfirmed are
    /// dropped from contacts that are only website visitors.
    static let unconfirmedVisitorAddresses = [
        """
        UPDATE contacts SET email = NULL WHERE email IS NOT NULL AND id IN (
            SELECT contact_id FROM identities GROUP BY contact_id HAVING min(channel) = 'webchat' AND max(channel) = 'webchat')
        """,
    ]
}
