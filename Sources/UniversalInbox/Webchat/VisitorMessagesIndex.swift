extension Schema {
    /// v41: a website visitor's messages found by their identity. The widget reads them at every
    /// conversation load (`visitorMessages(after:)`) and its chat's ticket once a second while it is
    /// open (`visitorTicket`); with no index on `messages.identity_id` SQLite walked `messages` by id
    /// for both: from the visitor's cursor to the newest message, and back from the newest to the
    /// visitor's last one, a whole-table walk for a returning visitor in a large inbox. Partial, so
    /// that only website chat messages have an entry: the other channels' ingest writes none.
    /// Queries that use it say `channel = 'webchat'` (a message's channel is its identity's).
    static let visitorMessagesIndex = "CREATE INDEX messages_visitor ON messages(identity_id, id) WHERE channel = 'webchat'"
}
