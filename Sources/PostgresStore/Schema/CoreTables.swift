extension PostgresSchema {
    /// Contacts and their platform identities, agents and departments (tickets refer to them),
    /// tickets, messages, attachments, idempotency of ingest (`processed_events`), receipts that came
    /// before their message, events the bridge could not read, Slack consoles, custom fields.
    /// SQLite v1, v2, v3, v5 (agents, departments), v6 (identities_user), v7 (fields, e-mail, spam
    /// columns), v18, v19 (agent tokens with ids) and v22 (`waiting_since`).
    static let core = [
        """
        CREATE TABLE contacts (
            id \(id),
            display_name TEXT,
            email TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX contacts_name ON contacts (lower(display_name))",
        "CREATE INDEX contacts_email ON contacts (lower(email)) WHERE email IS NOT NULL",
        """
        CREATE TABLE identities (
            id \(id),
            contact_id BIGINT NOT NULL REFERENCES contacts(id),
            account TEXT NOT NULL,
            channel TEXT NOT NULL,
            platform_user_id TEXT NOT NULL,
            display_name TEXT,
            phone TEXT,
            last_inbound_at BIGINT,
            reply_token TEXT,
            reply_token_at BIGINT,
            blocked INTEGER NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            UNIQUE (account, platform_user_id)
        )
        """,
        "CREATE INDEX identities_contact ON identities (contact_id)",
        "CREATE INDEX identities_phone ON identities (phone) WHERE phone IS NOT NULL",
        "CREATE INDEX identities_user ON identities (platform_user_id)",
        """
        CREATE TABLE departments (
            id \(id),
            name TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX departments_name ON departments (lower(name))",
        """
        CREATE TABLE agents (
            id \(id),
            email TEXT NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            password_hash TEXT,
            availability TEXT NOT NULL DEFAULT 'offline',
            max_tickets INTEGER NOT NULL,
            distribution_paused INTEGER NOT NULL DEFAULT 0,
            departments_only INTEGER NOT NULL DEFAULT 0,
            answer_assigned_only INTEGER NOT NULL DEFAULT 0,
            deactivated_at BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX agents_email ON agents (lower(email))",
        """
        CREATE TABLE department_members (
            department_id BIGINT NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            PRIMARY KEY (department_id, agent_id)
        )
        """,
        "CREATE INDEX department_members_agent ON department_members (agent_id)",
        """
        CREATE TABLE agent_tokens (
            id \(id),
            token_hash TEXT NOT NULL UNIQUE,
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            label TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT
        )
        """,
        "CREATE INDEX agent_tokens_agent ON agent_tokens (agent_id)",
        """
        CREATE TABLE tickets (
            id \(id),
            contact_id BIGINT NOT NULL REFERENCES contacts(id),
            status TEXT NOT NULL,
            last_identity_id BIGINT NOT NULL REFERENCES identities(id),
            assignee TEXT,
            agent_id BIGINT REFERENCES agents(id),
            department_id BIGINT REFERENCES departments(id),
            queued_at BIGINT,
            priority TEXT NOT NULL DEFAULT 'normal',
            resolution_reason TEXT,
            merged_into BIGINT REFERENCES tickets(id),
            screened INTEGER NOT NULL DEFAULT 1,
            spam_score DOUBLE PRECISION,
            waiting_since BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            resolved_at BIGINT
        )
        """,
        "CREATE INDEX tickets_contact ON tickets (contact_id, status)",
        "CREATE INDEX tickets_updated ON tickets (updated_at, id)",
        "CREATE INDEX tickets_status_updated ON tickets (status, updated_at, id)",
        "CREATE INDEX tickets_resolved ON tickets (resolved_at) WHERE status = 'resolved'",
        "CREATE INDEX tickets_agent ON tickets (agent_id, status)",
        "CREATE INDEX tickets_department ON tickets (department_id, updated_at, id)",
        "CREATE INDEX tickets_queue ON tickets (queued_at, id) WHERE queued_at IS NOT NULL",
        "CREATE INDEX tickets_waiting ON tickets (waiting_since, updated_at, id)",
        """
        CREATE TABLE ticket_channels (
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            channel TEXT NOT NULL,
            PRIMARY KEY (ticket_id, channel)
        )
        """,
        "CREATE INDEX ticket_channels_channel ON ticket_channels (channel, ticket_id)",
        """
        CREATE TABLE messages (
            id \(id),
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            identity_id BIGINT NOT NULL REFERENCES identities(id),
            direction TEXT NOT NULL,
            channel TEXT NOT NULL,
            account TEXT NOT NULL,
            content TEXT NOT NULL,
            text TEXT NOT NULL,
            status TEXT NOT NULL,
            platform_message_id TEXT,
            idempotency_key TEXT NOT NULL,
            failure_code TEXT,
            failure_reason TEXT,
            segments INTEGER,
            segment_encoding TEXT,
            author TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX messages_ticket ON messages (ticket_id, created_at, id)",
        "CREATE INDEX messages_platform ON messages (account, platform_message_id)",
        """
        CREATE TABLE processed_events (
            account TEXT NOT NULL,
            event_id TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            PRIMARY KEY (account, event_id)
        )
        """,
        """
        CREATE TABLE pending_receipts (
            account TEXT NOT NULL,
            platform_message_id TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code TEXT,
            error_message TEXT,
            received_at BIGINT NOT NULL,
            PRIMARY KEY (account, platform_message_id, status)
        )
        """,
        """
        CREATE TABLE attachments (
            id \(id),
            message_id BIGINT NOT NULL REFERENCES messages(id),
            account TEXT NOT NULL,
            media TEXT NOT NULL,
            status TEXT NOT NULL,
            mime_type TEXT,
            size BIGINT,
            path TEXT,
            failure_reason TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX attachments_message ON attachments (message_id)",
        """
        CREATE TABLE unreadable_events (
            id \(id),
            account TEXT NOT NULL,
            reason TEXT NOT NULL,
            raw TEXT NOT NULL,
            digest TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            UNIQUE (account, digest)
        )
        """,
        "CREATE INDEX unreadable_events_account ON unreadable_events (account, id)",
        """
        CREATE TABLE console_threads (
            account TEXT NOT NULL,
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            channel TEXT NOT NULL,
            thread TEXT NOT NULL,
            PRIMARY KEY (account, ticket_id)
        )
        """,
        "CREATE UNIQUE INDEX console_threads_thread ON console_threads (account, channel, thread)",
        """
        CREATE TABLE console_cursors (
            account TEXT PRIMARY KEY,
            last_message_id BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE custom_fields (
            id \(id),
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            label TEXT NOT NULL,
            type TEXT NOT NULL,
            options TEXT,
            created_at BIGINT NOT NULL,
            UNIQUE (scope, key)
        )
        """,
        """
        CREATE TABLE ticket_fields (
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            field_id BIGINT NOT NULL REFERENCES custom_fields(id) ON DELETE CASCADE,
            value TEXT NOT NULL,
            PRIMARY KEY (ticket_id, field_id)
        )
        """,
        "CREATE INDEX ticket_fields_value ON ticket_fields (field_id, value)",
        """
        CREATE TABLE contact_fields (
            contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            field_id BIGINT NOT NULL REFERENCES custom_fields(id) ON DELETE CASCADE,
            value TEXT NOT NULL,
            PRIMARY KEY (contact_id, field_id)
        )
        """,
        "CREATE INDEX contact_fields_value ON contact_fields (field_id, value)",
    ]
}
