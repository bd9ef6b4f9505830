import Foundation
import GRDB

/// Owns the SQLite database (WAL mode) and its schema. Every migration that shipped stays as it is;
/// changes are new migrations.
public struct AppDatabase: Sendable {
    public let pool: DatabasePool
    /// Runs the WAL's checkpoints off the writer (`WALCheckpointer`).
    let checkpointer: WALCheckpointer

    /// Opens (creating if needed) the database at `path` and migrates it. The database holds channel
    /// secrets and customer conversations: a new directory is 0700, and the file with its `-wal` and
    /// `-shm` are 0600 (SQLite gives the journal files the database file's mode, so the file is made
    /// 0600 before SQLite opens it; files from older versions are narrowed).
    public init(path: String) throws {
        try self.init(path: path, checkpoints: WALCheckpointer.Limits())
    }

    init(path: String, checkpoints: WALCheckpointer.Limits) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try PrivateFiles.createDirectory(directory.path)
        if !(try PrivateFiles.createExclusively(Data(), at: path)) {
            for file in [path, path + "-wal", path + "-shm"] { PrivateFiles.restrict(file) }
        }
        let checkpointer = WALCheckpointer(path: path, limits: checkpoints)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // WAL + NORMAL: a commit survives a killed process (the WAL is in the OS page cache);
            // only a power loss can take the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            if !db.configuration.readonly { checkpointer.install(on: db) }
        }
        self.checkpointer = checkpointer
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: Schema.v1)
        }
        migrator.registerMigration("v2-segments-and-phones") { db in
            try db.execute(sql: Schema.v2)
        }
        migrator.registerMigration("v3-agent-consoles") { db in
            try db.execute(sql: Schema.v3)
        }
        migrator.registerMigration("v4-message-search") { db in
            try db.execute(sql: Schema.v4)
        }
        migrator.registerMigration("v5-helpdesk") { db in
            try db.execute(sql: Schema.v5)
        }
        migrator.registerMigration("v6-contact-search") { db in
            try db.execute(sql: Schema.v6)
        }
        migrator.registerMigration("v7-fields-canned-spam") { db in
            try db.execute(sql: Schema.v7)
        }
        migrator.registerMigration("v8-outgoing-webhooks") { db in
            try db.execute(sql: Schema.v8)
        }
        migrator.registerMigration("v9-satisfaction") { db in
            try db.execute(sql: Schema.v9)
        }
        migrator.registerMigration("v10-rules-and-hours") { db in
            try db.execute(sql: Schema.v10)
        }
        migrator.registerMigration("v11-saved-views") { db in
            try db.execute(sql: Schema.v11)
        }
        migrator.registerMigration("v12-spam-state") { db in
            try db.execute(sql: Schema.v12)
        }
        migrator.registerMigration("v13-campaigns") { db in
            try db.execute(sql: Schema.v13)
        }
        migrator.registerMigration("v14-campaign-claims") { db in
            try db.execute(sql: Schema.v14)
        }
        migrator.registerMigration("v15-notifications") { db in
            try db.execute(sql: Schema.v15)
        }
        migrator.registerMigration("v16-push-subscriptions") { db in
            try db.execute(sql: Schema.v16)
        }
        migrator.registerMigration("v17-push-devices") { db in
            try db.execute(sql: Schema.v17)
        }
        migrator.registerMigration("v18-unreadable-events") { db in
            try db.execute(sql: Schema.v18)
        }
        migrator.registerMigration("v19-agent-access") { db in
            try db.execute(sql: Schema.agentAccess)
        }
        migrator.registerMigration("v20-event-log") { db in
            try db.execute(sql: Schema.eventLog)
        }
        migrator.registerMigration("v21-drafts") { db in
            try db.execute(sql: Schema.drafts)
        }
        migrator.registerMigration("v22-waiting-since") { db in
            try db.execute(sql: Schema.waitingSince)
        }
        migrator.registerMigration("v23-event-log-contacts") { db in
            try db.execute(sql: Schema.eventLogContacts)
        }
        migrator.registerMigration("v24-contact-tags") { db in
            try db.execute(sql: Schema.contactTags)
        }
        migrator.registerMigration("v25-run-once-leases") { db in
            try db.execute(sql: Schema.runOnceLeases)
        }
        migrator.registerMigration("v26-waiting-since-on-insert") { db in
            try db.execute(sql: Schema.waitingSinceOnInsert)
        }
        migrator.registerMigration("v27-channel-accounts") { db in
            try db.execute(sql: Schema.channelAccounts)
        }
        migrator.registerMigration("v28-report-summaries") { db in
            try db.execute(sql: Schema.reportSummaries)
        }
        migrator.registerMigration("v29-audit-retention") { db in
            try db.execute(sql: Schema.auditRetention)
        }
        migrator.registerMigration("v30-people-automation") { db in
            try db.execute(sql: Schema.agentInvites)
        }
        migrator.registerMigration("v31-account-departments") { db in
            try db.execute(sql: Schema.accountDepartments)
        }
        migrator.registerMigration("v32-spam-threshold") { db in
            try db.execute(sql: Schema.spamThreshold)
        }
        migrator.registerMigration("v33-email-opt-outs") { db in
            try db.execute(sql: Schema.emailOptOuts)
        }
        migrator.registerMigration("v34-email-mailbox-cursors") { db in
            try db.execute(sql: Schema.mailboxCursors)
        }
        migrator.registerMigration("v36-campaign-holders") { db in
            try db.execute(sql: Schema.campaignHolders)
        }
        migrator.registerMigration("v37-ticket-subjects") { db in
            try db.execute(sql: Schema.ticketSubjects)
        }
        migrator.registerMigration("v38-unconfirmed-visitor-addresses") { db in
            try db.execute(sql: Schema.unconfirmedVisitorAddresses)
        }
        migrator.registerMigration("v39-ingest-lookups") { db in
            try db.execute(sql: Schema.ingestLookups)
        }
        migrator.registerMigration("v40-ticket-activity-indexes") { db in
            try db.execute(sql: Schema.ticketActivityIndexes)
        }
        migrator.registerMigration("v41-visitor-messages-index") { db in
            try db.execute(sql: Schema.visitorMessagesIndex)
        }
        return migrator
    }
}

enum Schema {
    /// Times are Unix milliseconds. `account` is `kind/id`.
    static let v1 = """
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            display_name TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE identities (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contacts(id),
            account TEXT NOT NULL,
            channel TEXT NOT NULL,
            platform_user_id TEXT NOT NULL,
            display_name TEXT,
            phone TEXT,
            last_inbound_at INTEGER,
            reply_token TEXT,
            reply_token_at INTEGER,
            blocked INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            UNIQUE (account, platform_user_id)
        );
        CREATE INDEX identities_contact ON identities(contact_id);
        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contacts(id),
            status TEXT NOT NULL,
            last_identity_id INTEGER NOT NULL REFERENCES identities(id),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            resolved_at INTEGER
        );
        CREATE INDEX tickets_contact ON tickets(contact_id, status);
        CREATE INDEX tickets_updated ON tickets(updated_at, id);
        CREATE INDEX tickets_status_updated ON tickets(status, updated_at, id);
        CREATE INDEX tickets_resolved ON tickets(resolved_at) WHERE status = 'resolved';
        CREATE TABLE ticket_channels (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            channel TEXT NOT NULL,
            UNIQUE (ticket_id, channel)
        );
        CREATE INDEX ticket_channels_channel ON ticket_channels(channel, ticket_id);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            identity_id INTEGER NOT NULL REFERENCES identities(id),
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
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX messages_ticket ON messages(ticket_id, created_at, id);
        CREATE INDEX messages_platform ON messages(account, platform_message_id);
        CREATE TABLE processed_events (
            account TEXT NOT NULL,
            event_id TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (account, event_id)
        ) WITHOUT ROWID;
        CREATE TABLE pending_receipts (
            account TEXT NOT NULL,
            platform_message_id TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code TEXT,
            error_message TEXT,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (account, platform_message_id, status)
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL UNIQUE REFERENCES messages(id),
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            account TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            leased_until INTEGER,
            last_error TEXT
        );
        CREATE INDEX outbox_ticket ON outbox(ticket_id, id);
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            account TEXT NOT NULL,
            media TEXT NOT NULL,
            status TEXT NOT NULL,
            mime_type TEXT,
            size INTEGER,
            path TEXT,
            failure_reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX attachments_message ON attachments(message_id);
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            account TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            leased_until INTEGER,
            last_error TEXT
        );
        CREATE INDEX jobs_due ON jobs(next_attempt_at);
        """
}

extension Schema {
    /// SMS parts per outbound message; identities found by phone number to link channels.
    static let v2 = """
        ALTER TABLE messages ADD COLUMN segments INTEGER;
        ALTER TABLE messages ADD COLUMN segment_encoding TEXT;
        CREATE INDEX identities_phone ON identities(phone) WHERE phone IS NOT NULL;
        """
}

extension Schema {
    /// Agent consoles (Slack): each ticket's thread, and how far the console has followed the stream;
    /// who wrote an outbound message; who claimed a ticket.
    static let v3 = """
        CREATE TABLE console_threads (
            account TEXT NOT NULL,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            channel TEXT NOT NULL,
            thread TEXT NOT NULL,
            PRIMARY KEY (account, ticket_id)
        );
        CREATE UNIQUE INDEX console_threads_thread ON console_threads(account, channel, thread);
        CREATE TABLE console_cursors (
            account TEXT PRIMARY KEY,
            last_message_id INTEGER NOT NULL
        );
        ALTER TABLE messages ADD COLUMN author TEXT;
        ALTER TABLE tickets ADD COLUMN assignee TEXT;
        """
}

extension Schema {
    /// Full-text search over message text. The trigram tokenizer finds any 3+ character substring,
    /// so it works for Japanese and Chinese, which have no spaces between words. New messages are
    /// indexed after their commit, off the webhook path, up to `search_cursor` (see SearchIndex.swift).
    static let v4 = """
        CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='trigram');
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
        CREATE TABLE search_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_message_id INTEGER NOT NULL
        );
        INSERT INTO search_cursor (id, last_message_id) SELECT 1, coalesce(max(id), 0) FROM messages;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE INDEX contacts_name ON contacts(display_name COLLATE NOCASE);
        """
}

extension Schema {
    /// The helpdesk: agents (roles, availability, capacity, restrictions), departments, API and login
    /// tokens (stored as SHA-256 digests), assignment and the queue for automatic distribution, each
    /// ticket's history, tags, internal notes, priority, resolution reasons and per-agent read marks.
    static let v5 = """
        CREATE TABLE departments (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE agents (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            password_hash TEXT,
            availability TEXT NOT NULL DEFAULT 'offline',
            max_tickets INTEGER NOT NULL,
            distribution_paused INTEGER NOT NULL DEFAULT 0,
            departments_only INTEGER NOT NULL DEFAULT 0,
            answer_assigned_only INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE department_members (
            department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            PRIMARY KEY (department_id, agent_id)
        ) WITHOUT ROWID;
        CREATE INDEX department_members_agent ON department_members(agent_id);
        CREATE TABLE agent_tokens (
            token_hash TEXT PRIMARY KEY,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            label TEXT,
            created_at INTEGER NOT NULL,
            expires_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX agent_tokens_agent ON agent_tokens(agent_id);
        ALTER TABLE tickets ADD COLUMN agent_id INTEGER REFERENCES agents(id);
        ALTER TABLE tickets ADD COLUMN department_id INTEGER REFERENCES departments(id);
        ALTER TABLE tickets ADD COLUMN queued_at INTEGER;
        ALTER TABLE tickets ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
        ALTER TABLE tickets ADD COLUMN resolution_reason TEXT;
        ALTER TABLE tickets ADD COLUMN merged_into INTEGER REFERENCES tickets(id);
        CREATE INDEX tickets_agent ON tickets(agent_id, status);
        CREATE INDEX tickets_department ON tickets(department_id, updated_at, id);
        CREATE INDEX tickets_queue ON tickets(queued_at, id) WHERE queued_at IS NOT NULL;
        UPDATE tickets SET queued_at = created_at WHERE status = 'new' AND assignee IS NULL;
        CREATE TABLE ticket_events (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            detail TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
        CREATE TABLE ticket_tags (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            tag TEXT NOT NULL,
            PRIMARY KEY (ticket_id, tag)
        ) WITHOUT ROWID;
        CREATE INDEX ticket_tags_tag ON ticket_tags(tag, ticket_id);
        CREATE TABLE ticket_notes (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            agent_id INTEGER REFERENCES agents(id),
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id, id);
        CREATE TABLE ticket_reads (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            last_message_id INTEGER NOT NULL,
            PRIMARY KEY (ticket_id, agent_id)
        ) WITHOUT ROWID;
        """
}

extension Schema {
    /// Contact search: a trigram index on names (any part of a name, any script), kept in step by
    /// triggers; identities found by channel user id.
    static let v6 = """
        CREATE VIRTUAL TABLE contacts_fts USING fts5(display_name, content='contacts', content_rowid='id', tokenize='trigram');
        INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild');
        CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
            INSERT INTO contacts_fts(rowid, display_name) VALUES (new.id, new.display_name);
        END;
        CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
            INSERT INTO contacts_fts(contacts_fts, rowid, display_name) VALUES ('delete', old.id, old.display_name);
        END;
        CREATE TRIGGER contacts_fts_update AFTER UPDATE OF display_name ON contacts BEGIN
            INSERT INTO contacts_fts(contacts_fts, rowid, display_name) VALUES ('delete', old.id, old.display_name);
            INSERT INTO contacts_fts(rowid, display_name) VALUES (new.id, new.display_name);
        END;
        CREATE INDEX identities_user ON identities(platform_user_id);
        """
}

extension Schema {
    /// Custom fields admins define (on tickets or contacts) and their values; contacts' e-mail;
    /// canned responses (global, per department, per agent); forbidden words; the spam filter's
    /// word counts and each ticket's training label; whether a new ticket has been screened.
    static let v7 = """
        CREATE TABLE custom_fields (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            label TEXT NOT NULL,
            type TEXT NOT NULL,
            options TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (scope, key)
        );
        CREATE TABLE ticket_fields (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            field_id INTEGER NOT NULL REFERENCES custom_fields(id) ON DELETE CASCADE,
            value TEXT NOT NULL,
            PRIMARY KEY (ticket_id, field_id)
        ) WITHOUT ROWID;
        CREATE INDEX ticket_fields_value ON ticket_fields(field_id, value);
        CREATE TABLE contact_fields (
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            field_id INTEGER NOT NULL REFERENCES custom_fields(id) ON DELETE CASCADE,
            value TEXT NOT NULL,
            PRIMARY KEY (contact_id, field_id)
        ) WITHOUT ROWID;
        CREATE INDEX contact_fields_value ON contact_fields(field_id, value);
        ALTER TABLE contacts ADD COLUMN email TEXT;
        CREATE INDEX contacts_email ON contacts(email COLLATE NOCASE) WHERE email IS NOT NULL;
        CREATE TABLE canned_responses (
            id INTEGER PRIMARY KEY,
            shortcut TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            agent_id INTEGER REFERENCES agents(id) ON DELETE CASCADE,
            department_id INTEGER REFERENCES departments(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX canned_responses_scope ON canned_responses(shortcut, coalesce(agent_id, 0), coalesce(department_id, 0));
        CREATE TABLE forbidden_words (
            id INTEGER PRIMARY KEY,
            word TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE spam_tokens (
            token TEXT PRIMARY KEY,
            spam INTEGER NOT NULL DEFAULT 0,
            ham INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE spam_training (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            label TEXT NOT NULL,
            tokens TEXT NOT NULL
        );
        ALTER TABLE tickets ADD COLUMN screened INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE tickets ADD COLUMN spam_score REAL;
        """
}

extension Schema {
    /// Outgoing webhooks (a CRM's URL, its signing secret, the events it wants), the durable
    /// deliveries, and how far the feed has read tickets, messages and ticket events.
    static let v8 = """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            events TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY,
            webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
            event TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            leased_until INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            delivered_at INTEGER
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
        CREATE TABLE feed_cursors (
            name TEXT PRIMARY KEY,
            last_id INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO feed_cursors (name, last_id) SELECT 'webhooks.tickets', coalesce(max(id), 0) FROM tickets;
        INSERT INTO feed_cursors (name, last_id) SELECT 'webhooks.messages', coalesce(max(id), 0) FROM messages;
        INSERT INTO feed_cursors (name, last_id) SELECT 'webhooks.ticket_events', coalesce(max(id), 0) FROM ticket_events;
        """
}

extension Schema {
    /// Satisfaction: one rating request per resolved ticket (sent, or why not), and the answer,
    /// credited to the agent who had the ticket.
    static let v9 = """
        CREATE TABLE ratings (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            contact_id INTEGER NOT NULL,
            agent_id INTEGER REFERENCES agents(id),
            requested_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            reason TEXT,
            choices TEXT NOT NULL,
            rating TEXT,
            rated_at INTEGER
        );
        CREATE INDEX ratings_pending ON ratings(contact_id) WHERE state = 'requested' AND rating IS NULL;
        CREATE INDEX ratings_agent ON ratings(agent_id, rated_at);
        """
}

extension Schema {
    /// Business hours per department (0: tickets without one) with the auto-acknowledgement and
    /// out-of-hours reply; rules, which rule ran on which ticket (time-based rules run once per
    /// ticket and state), and how far the rules have read the stream.
    static let v10 = """
        CREATE TABLE business_hours (
            department_id INTEGER PRIMARY KEY,
            time_zone TEXT NOT NULL,
            weekly TEXT NOT NULL,
            holidays TEXT NOT NULL,
            acknowledgement TEXT,
            out_of_hours_reply TEXT,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE rules (
            id INTEGER PRIMARY KEY,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            trigger TEXT NOT NULL,
            after_seconds INTEGER,
            conditions TEXT NOT NULL,
            actions TEXT NOT NULL,
            stop INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE rule_runs (
            rule_id INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
            ticket_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            ran_at INTEGER NOT NULL,
            PRIMARY KEY (rule_id, ticket_id, key)
        ) WITHOUT ROWID;
        INSERT INTO feed_cursors (name, last_id) SELECT 'rules.tickets', coalesce(max(id), 0) FROM tickets;
        INSERT INTO feed_cursors (name, last_id) SELECT 'rules.messages', coalesce(max(id), 0) FROM messages;
        INSERT INTO feed_cursors (name, last_id) SELECT 'rules.ticket_events', coalesce(max(id), 0) FROM ticket_events;
        """
}

extension Schema {
    /// Ticket-list filters saved under a name, by an agent for itself or by an admin for everyone.
    static let v11 = """
        CREATE TABLE saved_views (
            id INTEGER PRIMARY KEY,
            agent_id INTEGER REFERENCES agents(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            filter TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX saved_views_name ON saved_views(coalesce(agent_id, 0), name);
        """
}

extension Schema {
    /// Whether the spam filter has learnt enough to screen (so new tickets are born screened while
    /// it has not, and distribution never waits on a filter that would pass everything).
    static let v12 = """
        CREATE TABLE spam_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            minimum INTEGER NOT NULL,
            trained INTEGER NOT NULL
        );
        INSERT INTO spam_state (id, minimum, trained) VALUES (1, 5, 0);
        UPDATE tickets SET screened = 1 WHERE screened = 0;
        """
}

extension Schema {
    /// Campaigns and their recipients, one row each with its own state, so a campaign survives a
    /// crash: rows of a batch carry the batch's key (resent under the same key), rows being sent
    /// are marked before the request.
    static let v13 = """
        CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            audience TEXT NOT NULL,
            channel TEXT,
            content TEXT NOT NULL,
            scheduled_at INTEGER,
            started_at INTEGER,
            finished_at INTEGER,
            audience_size INTEGER,
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX campaigns_status ON campaigns(status, scheduled_at);
        CREATE TABLE campaign_recipients (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            contact_id INTEGER NOT NULL,
            identity_id INTEGER,
            account TEXT,
            channel TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            batch_key TEXT,
            platform_message_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            UNIQUE (campaign_id, contact_id)
        );
        CREATE INDEX campaign_recipients_work ON campaign_recipients(campaign_id, status, next_attempt_at, id);
        CREATE INDEX campaign_recipients_batch ON campaign_recipients(campaign_id, batch_key) WHERE batch_key IS NOT NULL;
        CREATE INDEX campaign_recipients_platform ON campaign_recipients(account, platform_message_id) WHERE platform_message_id IS NOT NULL;
        """
}

extension Schema {
    /// Claiming the next recipients walks an index already in id order (no sort of the whole
    /// audience per chunk, which cost time and memory growing with the campaign).
    static let v14 = """
        DROP INDEX campaign_recipients_work;
        CREATE INDEX campaign_recipients_work ON campaign_recipients(campaign_id, status, id);
        """
}

extension Schema {
    /// Agents' alerts: each agent's choice of media per event, phone and quiet hours; the alerts
    /// themselves (a burst on one ticket grows one pending alert's count); how far the notifier
    /// has read the stream.
    static let v15 = """
        CREATE TABLE notification_settings (
            agent_id INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
            media TEXT NOT NULL,
            phone TEXT,
            quiet_start TEXT,
            quiet_end TEXT,
            time_zone TEXT,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            medium TEXT NOT NULL,
            event TEXT NOT NULL,
            ticket_id INTEGER NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            summary TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            due_at INTEGER NOT NULL,
            leased_until INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            sent_at INTEGER
        );
        CREATE INDEX notifications_due ON notifications(status, due_at);
        CREATE INDEX notifications_open ON notifications(agent_id, medium, event, ticket_id) WHERE status = 'pending';
        CREATE INDEX notifications_ticket ON notifications(ticket_id, event);
        INSERT INTO feed_cursors (name, last_id) SELECT 'notify.tickets', coalesce(max(id), 0) FROM tickets;
        INSERT INTO feed_cursors (name, last_id) SELECT 'notify.messages', coalesce(max(id), 0) FROM messages;
        INSERT INTO feed_cursors (name, last_id) SELECT 'notify.ticket_events', coalesce(max(id), 0) FROM ticket_events;
        """
}

extension Schema {
    /// Agents' browsers subscribed to Web Push: the push service's endpoint and the keys to
    /// encrypt for it.
    static let v16 = """
        CREATE TABLE push_subscriptions (
            id INTEGER PRIMARY KEY,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX push_subscriptions_agent ON push_subscriptions(agent_id);
        """

    /// Agents' phones for push alerts: FCM registration tokens and APNs device tokens.
    static let v17 = """
        CREATE TABLE push_devices (
            id INTEGER PRIMARY KEY,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            platform TEXT NOT NULL,
            token TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (platform, token)
        );
        CREATE INDEX push_devices_agent ON push_devices(agent_id);
        """
}

extension Schema {
    /// Platform events inside a verified webhook that the bridge could not read, kept as received
    /// (once per account and body digest: a redelivery adds nothing).
    static let v18 = """
        CREATE TABLE unreadable_events (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            reason TEXT NOT NULL,
            raw TEXT NOT NULL,
            digest TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            UNIQUE (account, digest)
        );
        CREATE INDEX unreadable_events_account ON unreadable_events(account, id);
        """
}

extension Date {
    /// Unix milliseconds, the store's time unit. Saturates instead of trapping on a time no clock
    /// or platform gives (NaN, or beyond ±292 million years); platform input is checked before
    /// it gets here (`PlatformTime`).
    public var ms: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        guard let exact = Int64(exactly: value) else { return value > 0 ? .max : .min }
        return exact
    }
    public init(ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }
}
