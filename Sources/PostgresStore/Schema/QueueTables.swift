extension PostgresSchema {
    /// The durable work: the outbox, jobs, outgoing webhooks and their deliveries, agents' alerts,
    /// campaigns and their recipients, and the followers' cursors over the event log. Each queue
    /// row has `leased_until` (or a status) for claims; on PostgreSQL claims take rows with
    /// `FOR UPDATE SKIP LOCKED`. SQLite v1 (outbox, jobs), v8, v13, v14, v15 and v20 (cursors).
    static let queues = [
        """
        CREATE TABLE outbox (
            id \(id),
            message_id BIGINT NOT NULL UNIQUE REFERENCES messages(id),
            ticket_id BIGINT NOT NULL REFERENCES tickets(id),
            account TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            leased_until BIGINT,
            last_error TEXT
        )
        """,
        "CREATE INDEX outbox_ticket ON outbox (ticket_id, id)",
        """
        CREATE TABLE jobs (
            id \(id),
            kind TEXT NOT NULL,
            account TEXT NOT NULL,
            subject_id BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            leased_until BIGINT,
            last_error TEXT
        )
        """,
        "CREATE INDEX jobs_due ON jobs (next_attempt_at)",
        """
        CREATE TABLE webhooks (
            id \(id),
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            events TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE webhook_deliveries (
            id \(id),
            webhook_id BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
            event TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            leased_until BIGINT,
            last_error TEXT,
            created_at BIGINT NOT NULL,
            delivered_at BIGINT
        )
        """,
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
        "CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id)",
        "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, id) WHERE status = 'pending'",
        """
        CREATE TABLE notifications (
            id \(id),
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            medium TEXT NOT NULL,
            event TEXT NOT NULL,
            ticket_id BIGINT NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            summary TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            due_at BIGINT NOT NULL,
            leased_until BIGINT,
            last_error TEXT,
            created_at BIGINT NOT NULL,
            sent_at BIGINT
        )
        """,
        "CREATE INDEX notifications_due ON notifications (status, due_at)",
        "CREATE INDEX notifications_open ON notifications (agent_id, medium, event, ticket_id) WHERE status = 'pending'",
        "CREATE INDEX notifications_ticket ON notifications (ticket_id, event)",
        """
        CREATE TABLE campaigns (
            id \(id),
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            audience TEXT NOT NULL,
            channel TEXT,
            content TEXT NOT NULL,
            scheduled_at BIGINT,
            started_at BIGINT,
            finished_at BIGINT,
            audience_size BIGINT,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX campaigns_status ON campaigns (status, scheduled_at)",
        """
        CREATE TABLE campaign_recipients (
            id \(id),
            campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            contact_id BIGINT NOT NULL,
            identity_id BIGINT,
            account TEXT,
            channel TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            batch_key TEXT,
            platform_message_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL,
            UNIQUE (campaign_id, contact_id)
        )
        """,
        "CREATE INDEX campaign_recipients_work ON campaign_recipients (campaign_id, status, id)",
        "CREATE INDEX campaign_recipients_batch ON campaign_recipients (campaign_id, batch_key) WHERE batch_key IS NOT NULL",
        "CREATE INDEX campaign_recipients_platform ON campaign_recipients (account, platform_message_id) WHERE platform_message_id IS NOT NULL",
        """
        CREATE TABLE feed_cursors (
            name TEXT PRIMARY KEY,
            last_id BIGINT NOT NULL
        )
        """,
        "INSERT INTO feed_cursors (name, last_id) VALUES ('webhooks.log', 0), ('notify.log', 0), ('rules.log', 0)",
    ]

    /// Full text with `pg_trgm` (Debian's postgresql-contrib; a trusted extension, so the database's
    /// owner may create it): GIN trigram indexes serve `ILIKE '%…%'` on message text and contact
    /// names in any script, as FTS5's trigram tokenizer does on SQLite (SQLite v4 and v6). Trigrams
    /// of Japanese or Chinese text need a UTF-8 `LC_CTYPE` (scripts/postgres.sh uses C.UTF-8):
    /// under the C locale pg_trgm sees no word characters outside ASCII.
    static let search = [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX messages_text_trgm ON messages USING gin (text gin_trgm_ops)",
        "CREATE INDEX contacts_name_trgm ON contacts USING gin (display_name gin_trgm_ops)",
    ]
}
