extension PostgresSchema {
    /// What agents work with: each ticket's history, tags, notes, read marks and drafts; canned
    /// responses, forbidden words, the spam filter's counts, saved views, satisfaction ratings,
    /// business hours and rules; agents' alert settings and push endpoints.
    /// SQLite v5, v7, v9, v10, v11, v12, v15 (settings), v16, v17 and v21.
    static let helpdesk = [
        """
        CREATE TABLE ticket_events (
            id \(id),
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            detail TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id)",
        """
        CREATE TABLE ticket_tags (
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            tag TEXT NOT NULL,
            PRIMARY KEY (ticket_id, tag)
        )
        """,
        "CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id)",
        """
        CREATE TABLE ticket_notes (
            id \(id),
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            agent_id BIGINT REFERENCES agents(id),
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, id)",
        """
        CREATE TABLE ticket_reads (
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            last_message_id BIGINT NOT NULL,
            PRIMARY KEY (ticket_id, agent_id)
        )
        """,
        """
        CREATE TABLE drafts (
            ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            mode TEXT NOT NULL,
            text TEXT NOT NULL,
            channel TEXT,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (ticket_id, agent_id)
        )
        """,
        """
        CREATE TABLE canned_responses (
            id \(id),
            shortcut TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            agent_id BIGINT REFERENCES agents(id) ON DELETE CASCADE,
            department_id BIGINT REFERENCES departments(id) ON DELETE CASCADE,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX canned_responses_scope ON canned_responses (shortcut, coalesce(agent_id, 0), coalesce(department_id, 0))",
        """
        CREATE TABLE forbidden_words (
            id \(id),
            word TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX forbidden_words_word ON forbidden_words (lower(word))",
        """
        CREATE TABLE spam_tokens (
            token TEXT PRIMARY KEY,
            spam INTEGER NOT NULL DEFAULT 0,
            ham INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE spam_training (
            ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
            label TEXT NOT NULL,
            tokens TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE spam_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            minimum INTEGER NOT NULL,
            trained INTEGER NOT NULL
        )
        """,
        "INSERT INTO spam_state (id, minimum, trained) VALUES (1, 5, 0)",
        """
        CREATE TABLE saved_views (
            id \(id),
            agent_id BIGINT REFERENCES agents(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            filter TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX saved_views_name ON saved_views (coalesce(agent_id, 0), name)",
        """
        CREATE TABLE ratings (
            ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
            contact_id BIGINT NOT NULL,
            agent_id BIGINT REFERENCES agents(id),
            requested_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT,
            choices TEXT NOT NULL,
            rating TEXT,
            rated_at BIGINT
        )
        """,
        "CREATE INDEX ratings_pending ON ratings (contact_id) WHERE state = 'requested' AND rating IS NULL",
        "CREATE INDEX ratings_agent ON ratings (agent_id, rated_at)",
        """
        CREATE TABLE business_hours (
            department_id BIGINT PRIMARY KEY,
            time_zone TEXT NOT NULL,
            weekly TEXT NOT NULL,
            holidays TEXT NOT NULL,
            acknowledgement TEXT,
            out_of_hours_reply TEXT,
            updated_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE rules (
            id \(id),
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            trigger TEXT NOT NULL,
            after_seconds BIGINT,
            conditions TEXT NOT NULL,
            actions TEXT NOT NULL,
            stop INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE rule_runs (
            rule_id BIGINT NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
            ticket_id BIGINT NOT NULL,
            key TEXT NOT NULL,
            ran_at BIGINT NOT NULL,
            PRIMARY KEY (rule_id, ticket_id, key)
        )
        """,
        """
        CREATE TABLE notification_settings (
            agent_id BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
            media TEXT NOT NULL,
            phone TEXT,
            quiet_start TEXT,
            quiet_end TEXT,
            time_zone TEXT,
            updated_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE push_subscriptions (
            id \(id),
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX push_subscriptions_agent ON push_subscriptions (agent_id)",
        """
        CREATE TABLE push_devices (
            id \(id),
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            platform TEXT NOT NULL,
            token TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (platform, token)
        )
        """,
        "CREATE INDEX push_devices_agent ON push_devices (agent_id)",
    ]
}
