extension PostgresSchema {
    /// The channel `append_event` notifies on, with no payload (`eventNotifyOnce`). A notification
    /// only wakes a follower, which then reads the log from its own position: a lost or coalesced
    /// notification loses nothing.
    public static let eventChannel = "bridge_events"

    /// The ordered event log (SQLite v20 and v23, `UniversalInbox/Feeds/EventLog.swift`): `events`, how far
    /// it was pruned, and triggers that append in the writing transaction, one PL/pgSQL function per
    /// SQLite trigger.
    ///
    /// `seq` order is commit order: `append_event` takes the next number from the one row of
    /// `event_seq` with an UPDATE, which row-locks it until the transaction ends. A second writer's
    /// append waits for the first to commit (or roll back, which returns its numbers), so numbers
    /// are gap-free and a reader that sees `seq` N has every entry before N committed already. A
    /// sequence or IDENTITY would hand out numbers in call order and let a later number commit first,
    /// and a follower at N would skip the earlier one for good. The lock is held from a
    /// transaction's first append to its commit, so writers keep appends at the end of short
    /// transactions. `event_seq` also keeps the high-water mark when every entry is pruned.
    static let eventLog = [
        "CREATE TABLE event_seq (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)",
        "INSERT INTO event_seq (id, seq) VALUES (1, 0)",
        """
        CREATE TABLE events (
            seq BIGINT PRIMARY KEY,
            type TEXT NOT NULL,
            ticket_id BIGINT NOT NULL,
            data JSONB
        )
        """,
        "CREATE TABLE event_log_state (pruned_through BIGINT NOT NULL)",
        "INSERT INTO event_log_state (pruned_through) VALUES (0)",
        appendEvent(create: "CREATE", payload: "next_seq::text"),
    ]
        + trigger("events_ticket_opened", "AFTER INSERT ON tickets", body: "PERFORM append_event('ticket_opened', NEW.id);")
        + trigger(
            "events_ticket_status", "AFTER UPDATE OF status ON tickets", when: "OLD.status IS DISTINCT FROM NEW.status",
            body: "PERFORM append_event('status', NEW.id, jsonb_build_object('status', NEW.status));")
        + trigger(
            "events_ticket_assigned", "AFTER UPDATE OF agent_id ON tickets", when: "OLD.agent_id IS DISTINCT FROM NEW.agent_id",
            body: """
                PERFORM append_event('assigned', NEW.id, jsonb_build_object(
                    'agentId', NEW.agent_id, 'moved', 1, 'fromAgentId', OLD.agent_id, 'fromDepartmentId', OLD.department_id));
                """)
        + trigger(
            "events_ticket_updated", "AFTER UPDATE OF priority, department_id, merged_into ON tickets",
            when: """
                OLD.priority IS DISTINCT FROM NEW.priority OR OLD.department_id IS DISTINCT FROM NEW.department_id
                    OR OLD.merged_into IS DISTINCT FROM NEW.merged_into
                """,
            body: """
                PERFORM append_event('ticket_updated', NEW.id, jsonb_build_object(
                    'moved', 1, 'fromAgentId', OLD.agent_id, 'fromDepartmentId', OLD.department_id));
                """)
        + trigger("events_tag_added", "AFTER INSERT ON ticket_tags", body: "PERFORM append_event('ticket_updated', NEW.ticket_id);")
        + trigger("events_tag_removed", "AFTER DELETE ON ticket_tags", body: "PERFORM append_event('ticket_updated', OLD.ticket_id);")
        + trigger(
            "events_message", "AFTER INSERT ON messages",
            body: "PERFORM append_event('message', NEW.ticket_id, jsonb_build_object('messageId', NEW.id, 'direction', NEW.direction));")
        + trigger(
            "events_message_moved", "AFTER UPDATE OF ticket_id ON messages", when: "OLD.ticket_id IS DISTINCT FROM NEW.ticket_id",
            body: """
                PERFORM append_event('ticket_updated', OLD.ticket_id);
                PERFORM append_event('ticket_updated', NEW.ticket_id);
                """)
        + trigger(
            "events_message_status", "AFTER UPDATE OF status ON messages", when: "OLD.status IS DISTINCT FROM NEW.status",
            body: "PERFORM append_event('message_status', NEW.ticket_id, jsonb_build_object('messageId', NEW.id, 'status', NEW.status));")
        + trigger(
            "events_note", "AFTER INSERT ON ticket_notes",
            body: "PERFORM append_event('note', NEW.ticket_id, jsonb_build_object('noteId', NEW.id));")
        + trigger(
            "events_history", "AFTER INSERT ON ticket_events",
            body: "PERFORM append_event('history', NEW.ticket_id, jsonb_build_object('historyId', NEW.id, 'kind', NEW.kind));")
        // SQLite v23: a contact's name or identities change how its open tickets read.
        + contactChanged(
            "events_contact_named", "AFTER UPDATE OF display_name ON contacts", when: "OLD.display_name IS DISTINCT FROM NEW.display_name",
            contact: "NEW.id")
        + contactChanged("events_identity_added", "AFTER INSERT ON identities", contact: "NEW.contact_id")
        + trigger(
            "events_identity_moved", "AFTER UPDATE OF contact_id ON identities", when: "OLD.contact_id IS DISTINCT FROM NEW.contact_id",
            body: """
                PERFORM append_event('ticket_updated', id) FROM tickets
                    WHERE contact_id IN (OLD.contact_id, NEW.contact_id) AND status <> 'closed' ORDER BY id;
                """)

    /// A row trigger `name` and its function of the same name running `body` (PL/pgSQL).
    static func trigger(_ name: String, _ event: String, when condition: String? = nil, body: String) -> [String] {
        [
            """
            CREATE FUNCTION \(name)() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                \(body)
                RETURN NULL;
            END
            $$
            """,
            "CREATE TRIGGER \(name) \(event) FOR EACH ROW\(condition.map { " WHEN (\($0))" } ?? "") EXECUTE FUNCTION \(name)()",
        ]
    }

    /// `append_event` notifies with an empty payload instead of the new `seq`: PostgreSQL delivers
    /// a transaction's identical notifications once, so an ingest group of N messages wakes each
    /// listening process once, not N times (each process listens, so with the seq as payload every
    /// process took one notification per event of every other: CPU per event grew with processes).
    static let eventNotifyOnce = [appendEvent(create: "CREATE OR REPLACE", payload: "''")]

    /// `append_event`: the next `seq` (row-locking `event_seq`), the entry, and a notification with
    /// `payload` (an SQL expression).
    private static func appendEvent(create: String, payload: String) -> String {
        """
        \(create) FUNCTION append_event(event_type TEXT, event_ticket BIGINT, event_data JSONB DEFAULT NULL) RETURNS BIGINT
        LANGUAGE plpgsql AS $$
        DECLARE
            next_seq BIGINT;
        BEGIN
            UPDATE event_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO next_seq;
            INSERT INTO events (seq, type, ticket_id, data) VALUES (next_seq, event_type, event_ticket, event_data);
            PERFORM pg_notify('\(eventChannel)', \(payload));
            RETURN next_seq;
        END
        $$
        """
    }
}
