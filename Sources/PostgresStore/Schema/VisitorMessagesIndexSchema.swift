extension PostgresSchema {
    /// SQLite v41 (`UniversalInbox/Webchat/VisitorMessagesIndex.swift`): a website visitor's
    /// messages by their identity, for the widget's conversation loads and its chat's ticket; only
    /// website chat messages have an entry.
    static let visitorMessagesIndex = [
        "CREATE INDEX messages_visitor ON messages (identity_id, id) WHERE channel = 'webchat'"
    ]
}
