extension PostgresSchema {
    /// The channel `PostgresPresenceStore` notifies on after a change, with the new version as
    /// payload. Like `eventChannel` it only wakes the hubs, which then ask for the changes after
    /// their own version: a lost notification loses nothing.
    public static let presenceChannel = "bridge_presence"

    /// Presence across processes (`UniversalInbox/Feeds/PresenceStore.swift`; no SQLite twin: on
    /// SQLite it lives in the one process's memory). `presence_state` is one row: the version
    /// counter, row-locked by every writer until commit so versions are commit order (as
    /// `event_seq` is for the event log), and how far change records were forgotten.
    /// `presence_changes` holds each ticket's last change, deletions included.
    static let presence = [
        """
        CREATE TABLE presence (
            connection_id UUID NOT NULL,
            ticket_id BIGINT NOT NULL,
            process_id TEXT NOT NULL,
            agent_id BIGINT,
            agent_name TEXT NOT NULL,
            state TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (connection_id, ticket_id)
        )
        """,
        "CREATE INDEX presence_ticket ON presence (ticket_id)",
        "CREATE INDEX presence_expiry ON presence (expires_at)",
        "CREATE TABLE presence_state (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL, pruned_through BIGINT NOT NULL)",
        "INSERT INTO presence_state (id, version, pruned_through) VALUES (1, 0, 0)",
        "CREATE TABLE presence_changes (ticket_id BIGINT PRIMARY KEY, version BIGINT NOT NULL)",
        "CREATE INDEX presence_changes_version ON presence_changes (version)",
    ]
}
