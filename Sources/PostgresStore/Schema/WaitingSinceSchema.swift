extension PostgresSchema {
    /// `tickets.waiting_since` kept by triggers (SQLite v22, `UniversalInbox/Tickets/LongestWaiting.swift`):
    /// the time of the customer's first message after the last reply that was not the system's.
    static let waitingSince = [
        """
        CREATE FUNCTION waiting_since(ticket BIGINT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
            SELECT m.created_at FROM messages m
            WHERE m.ticket_id = ticket AND m.direction = 'in'
              AND m.created_at > coalesce((SELECT o.created_at FROM messages o
                                           WHERE o.ticket_id = ticket AND o.direction = 'out' AND o.author IS DISTINCT FROM 'system'
                                           ORDER BY o.created_at DESC LIMIT 1), -1)
            ORDER BY m.created_at LIMIT 1
        $$
        """,
    ]
        + trigger(
            "waiting_message_added", "AFTER INSERT ON messages",
            body: "UPDATE tickets SET waiting_since = waiting_since(NEW.ticket_id) WHERE id = NEW.ticket_id;")
        + trigger(
            "waiting_message_moved", "AFTER UPDATE OF ticket_id ON messages", when: "OLD.ticket_id IS DISTINCT FROM NEW.ticket_id",
            body: "UPDATE tickets SET waiting_since = waiting_since(id) WHERE id IN (OLD.ticket_id, NEW.ticket_id);")
        + trigger(
            "waiting_message_removed", "AFTER DELETE ON messages",
            body: "UPDATE tickets SET waiting_since = waiting_since(OLD.ticket_id) WHERE id = OLD.ticket_id;")
}

extension PostgresSchema {
    /// SQLite v26 (`Schema.waitingSinceOnInsert`): a new customer message only moves
    /// `waiting_since` (it can start the wait or move its start earlier, and only when it is newer
    /// than the last reply), so filing a message no longer re-reads every message of a long
    /// unanswered conversation; other new messages recompute it as before. (PostgreSQL allows no
    /// subquery in a trigger's WHEN, so the ticket-row test is in the function.)
    static let waitingSinceOnInsert =
        [
            "DROP TRIGGER waiting_message_added ON messages",
            "DROP FUNCTION waiting_message_added()",
        ]
        + trigger(
            "waiting_inbound_added", "AFTER INSERT ON messages", when: "NEW.direction = 'in'",
            body: """
                UPDATE tickets SET waiting_since = NEW.created_at
                WHERE id = NEW.ticket_id AND (waiting_since IS NULL OR waiting_since > NEW.created_at)
                    AND NEW.created_at > coalesce((SELECT o.created_at FROM messages o
                                                   WHERE o.ticket_id = NEW.ticket_id AND o.direction = 'out' AND o.author IS DISTINCT FROM 'system'
                                                   ORDER BY o.created_at DESC LIMIT 1), -1);
                """)
        + trigger(
            "waiting_other_added", "AFTER INSERT ON messages", when: "NEW.direction IS DISTINCT FROM 'in'",
            body: "UPDATE tickets SET waiting_since = waiting_since(NEW.ticket_id) WHERE id = NEW.ticket_id;")
}
