import Foundation

/// The SQL erasing, exporting and cleaning up customers' data, written once for both databases.
/// Ids go in as integer literals (they are `Int64`s, never text), so the same statements run on
/// SQLite and PostgreSQL without binds.
public enum ContactDataSQL {
    /// A list of ids for `IN (...)`: `(NULL)` matches nothing when there are none.
    public static func list(_ ids: [Int64]) -> String {
        ids.isEmpty ? "(NULL)" : "(" + ids.map(String.init).joined(separator: ",") + ")"
    }

    /// The contact's tickets' ids.
    public static func tickets(_ contactId: Int64) -> String { "SELECT id FROM tickets WHERE contact_id = \(contactId)" }

    /// The contact's messages: on their tickets, or from their identities.
    public static func messages(_ contactId: Int64) -> String {
        "SELECT id FROM messages WHERE ticket_id IN (\(tickets(contactId))) OR identity_id IN (SELECT id FROM identities WHERE contact_id = \(contactId))"
    }

    /// Paths of the contact's attachments' files.
    public static func files(_ contactId: Int64) -> String {
        "SELECT path FROM attachments WHERE path IS NOT NULL AND message_id IN (\(messages(contactId)))"
    }

    /// Tables hanging on a ticket (deleted, after the messages' own rows, for the contact's tickets).
    public static let ticketTables = [
        "ticket_channels", "ticket_events", "ticket_tags", "ticket_notes", "ticket_reads", "ticket_fields", "drafts",
        "console_threads", "notifications", "rule_runs", "spam_training",
    ]

    /// Deletes everything about the contact, children before parents (foreign keys), given its
    /// tickets' ids fetched first (the event log's entries are deleted last: the deletions
    /// themselves append `ticket_updated` entries through the log's triggers).
    public static func erasure(_ contactId: Int64, tickets ticketIds: [Int64]) -> [String] {
        let c = contactId
        let messages = messages(c)
        let tickets = list(ticketIds)
        return [
            """
            DELETE FROM jobs WHERE (kind = 'media' AND subject_id IN (SELECT id FROM attachments WHERE message_id IN (\(messages))))
               OR (kind = 'profile' AND subject_id IN (SELECT id FROM identities WHERE contact_id = \(c)))
            """,
            """
            DELETE FROM unreadable_events WHERE EXISTS (SELECT 1 FROM identities i WHERE i.contact_id = \(c)
               AND length(i.platform_user_id) >= 6 AND unreadable_events.raw LIKE '%' || i.platform_user_id || '%')
            """,
            """
            DELETE FROM pending_receipts WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id IN (\(messages))
               AND m.account = pending_receipts.account AND m.platform_message_id = pending_receipts.platform_message_id)
            """,
            "DELETE FROM attachments WHERE message_id IN (\(messages))",
            "DELETE FROM outbox WHERE message_id IN (\(messages)) OR ticket_id IN \(tickets)",
        ] + ticketTables.map { "DELETE FROM \($0) WHERE ticket_id IN \(tickets)" } + [
            "DELETE FROM ratings WHERE contact_id = \(c) OR ticket_id IN \(tickets)",
            "DELETE FROM messages WHERE id IN (\(messages))",
            "UPDATE tickets SET merged_into = NULL WHERE merged_into IN \(tickets) AND contact_id <> \(c)",
            "DELETE FROM tickets WHERE contact_id = \(c)",
            "DELETE FROM campaign_recipients WHERE contact_id = \(c)",
            "DELETE FROM identities WHERE contact_id = \(c)",
            "DELETE FROM contact_fields WHERE contact_id = \(c)",
            "DELETE FROM contact_tags WHERE contact_id = \(c)",
            "DELETE FROM contacts WHERE id = \(c)",
            "DELETE FROM events WHERE ticket_id IN \(tickets)",
        ]
    }

    /// Outgoing webhook deliveries (queued or sent) about the tickets: their payloads hold the
    /// conversation. JSON is read differently by each database, hence two texts.
    public static func webhookDeliveries(tickets ticketIds: [Int64], postgres: Bool) -> String {
        let tickets = list(ticketIds)
        if postgres {
            return """
                DELETE FROM webhook_deliveries WHERE (payload::jsonb #>> '{data,ticketId}')::bigint IN \(tickets)
                   OR (event = 'ticket.created' AND (payload::jsonb #>> '{data,id}')::bigint IN \(tickets))
                   OR (event = 'rule.fired' AND (payload::jsonb #>> '{data,ticket,id}')::bigint IN \(tickets))
                """
        }
        return """
            DELETE FROM webhook_deliveries WHERE json_valid(payload) AND (json_extract(payload, '$.data.ticketId') IN \(tickets)
               OR (event = 'ticket.created' AND json_extract(payload, '$.data.id') IN \(tickets))
               OR (event = 'rule.fired' AND json_extract(payload, '$.data.ticket.id') IN \(tickets)))
            """
    }

    /// What an export holds, table by table: the rows about the contact. Operational rows (queues,
    /// cursors, alerts) are not the customer's data and stay out.
    public static func export(_ contactId: Int64) -> [(table: String, sql: String)] {
        let c = contactId
        let tickets = tickets(c)
        return [
            ("contact", "SELECT * FROM contacts WHERE id = \(c)"),
            ("identities", "SELECT * FROM identities WHERE contact_id = \(c) ORDER BY id"),
            ("contactFields", "SELECT f.key, f.label, v.value FROM contact_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.contact_id = \(c) ORDER BY f.key"),
            ("contactTags", "SELECT tag FROM contact_tags WHERE contact_id = \(c) ORDER BY tag"),
            ("tickets", "SELECT * FROM tickets WHERE contact_id = \(c) ORDER BY id"),
            ("ticketTags", "SELECT * FROM ticket_tags WHERE ticket_id IN (\(tickets)) ORDER BY ticket_id, tag"),
            ("ticketFields", "SELECT v.ticket_id, f.key, f.label, v.value FROM ticket_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.ticket_id IN (\(tickets)) ORDER BY v.ticket_id, f.key"),
            ("ticketNotes", "SELECT * FROM ticket_notes WHERE ticket_id IN (\(tickets)) ORDER BY id"),
            ("ticketHistory", "SELECT * FROM ticket_events WHERE ticket_id IN (\(tickets)) ORDER BY id"),
            ("messages", "SELECT * FROM messages WHERE id IN (\(messages(c))) ORDER BY id"),
            ("attachments", "SELECT * FROM attachments WHERE message_id IN (\(messages(c))) ORDER BY id"),
            ("drafts", "SELECT * FROM drafts WHERE ticket_id IN (\(tickets)) ORDER BY ticket_id, agent_id"),
            ("ratings", "SELECT * FROM ratings WHERE contact_id = \(c) OR ticket_id IN (\(tickets)) ORDER BY ticket_id"),
            ("campaignRecipients", "SELECT * FROM campaign_recipients WHERE contact_id = \(c) ORDER BY id"),
        ]
    }

    /// Columns an export leaves out: a platform's short-lived reply token (a credential) and where a
    /// file sits on the server.
    public static let hiddenColumns: Set<String> = ["reply_token", "path"]

    /// The marker a cleared message's content is set to (text empty).
    public static let clearedContent = #"{"kind":"text"}"#

    /// Messages older than `cutoff` not yet cleared and not waiting to be sent, oldest first.
    public static func expiredMessages(cutoff: Int64, limit: Int) -> String {
        """
        SELECT id FROM messages WHERE created_at < \(cutoff) AND content <> '\(clearedContent)'
           AND id NOT IN (SELECT message_id FROM outbox) ORDER BY id LIMIT \(limit)
        """
    }

    /// Clears the messages' text and content, and their tickets' subjects: the customer's words
    /// from a ticket's first mail, which is cleared no later than any other of its messages.
    public static func clearMessages(_ ids: [Int64]) -> [String] {
        [
            "UPDATE tickets SET subject = NULL WHERE subject IS NOT NULL AND id IN (SELECT ticket_id FROM messages WHERE id IN \(list(ids)))",
            "UPDATE messages SET text = '', content = '\(clearedContent)' WHERE id IN \(list(ids))",
        ]
    }

    /// Other copies of conversations older than `cutoff`, `limit` of each: webhook deliveries sent
    /// or given up (their payloads), alerts sent or given up (their summaries quote the message),
    /// unreadable platform events (kept raw). Pending ones wait for their work to finish.
    public static func expiredCopies(cutoff: Int64, limit: Int) -> [String] {
        [
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < \(cutoff) ORDER BY id LIMIT \(limit))",
            "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE status <> 'pending' AND created_at < \(cutoff) ORDER BY id LIMIT \(limit))",
            "DELETE FROM unreadable_events WHERE id IN (SELECT id FROM unreadable_events WHERE received_at < \(cutoff) ORDER BY id LIMIT \(limit))",
        ]
    }

    /// Attachments older than `cutoff`, oldest first: id and file path.
    public static func expiredAttachments(cutoff: Int64, limit: Int) -> String {
        "SELECT id, path FROM attachments WHERE created_at < \(cutoff) ORDER BY created_at, id LIMIT \(limit)"
    }

    public static func deleteAttachments(_ ids: [Int64]) -> [String] {
        ["DELETE FROM jobs WHERE kind = 'media' AND subject_id IN \(list(ids))", "DELETE FROM attachments WHERE id IN \(list(ids))"]
    }

    /// Queue depths: outbox, follow-up jobs, pending alerts, pending webhook deliveries, campaign
    /// recipients still to send.
    public static let queueDepths = """
        SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM jobs),
               (SELECT count(*) FROM notifications WHERE status = 'pending'),
               (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),
               (SELECT count(*) FROM campaign_recipients WHERE status IN ('pending', 'sending'))
        """

    /// The latest sends that failed for good: account, code, reason, time, ticket.
    public static func sendFailures(limit: Int) -> String {
        """
        SELECT account, coalesce(failure_code, ''), coalesce(failure_reason, ''), updated_at, ticket_id FROM messages
         WHERE status = 'failed' ORDER BY updated_at DESC LIMIT \(limit)
        """
    }

    /// The latest unreadable events: account, reason, time.
    public static func unreadable(limit: Int) -> String {
        "SELECT account, reason, received_at FROM unreadable_events ORDER BY id DESC LIMIT \(limit)"
    }

    public static let insertAudit = """
        INSERT INTO audit_log (at, actor_id, actor_name, actor_role, method, route, target_id, summary, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    public static let selectAudit = """
        SELECT id, at, actor_id, actor_name, actor_role, method, route, target_id, summary, status FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?
        """
}

extension RecentError {
    /// A send failure's reason: its code and the platform's words.
    public static func sendFailure(account: String, code: String, reason: String, at: Int64, ticketId: Int64) -> RecentError {
        RecentError(kind: "send_failed", at: Date(ms: at), account: account, reason: [code, reason].filter { !$0.isEmpty }.joined(separator: ": "), ticketId: ticketId)
    }

    /// Merges both kinds, newest first, `limit` in all.
    public static func merged(_ errors: [RecentError], limit: Int) -> [RecentError] {
        Array(errors.sorted { $0.at > $1.at }.prefix(limit))
    }
}
