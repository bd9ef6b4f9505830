extension PostgresSchema {
    /// SQLite v41 (`UniversalInbox/Webchat/VisitorMessagesIndex.swift`): a website visitor's
    /// messages by their identity, for the widget's conversation loads and its chat's ticket; only
    /// website chat messages have an entry. Built concurrently: `messages` is the largest table, and
    /// the processes still serving during an upgrade go on filing messages meanwhile.
    static let visitorMessagesIndex = PostgresMigration.ConcurrentIndex(
        name: "messages_visitor", table: "messages", columns: "(identity_id, id) WHERE channel = 'webchat'")
}
