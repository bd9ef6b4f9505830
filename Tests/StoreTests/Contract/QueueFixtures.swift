import Foundation
import UniversalInbox

/// Rows in the real queue tables (`jobs`, `outbox`, `notifications`, `webhook_deliveries`) and the
/// rows their foreign keys need, in plain SQL that both databases run.
struct QueueFixtures {
    let sql: PlainSQL

    /// A new group for `queue`'s rows: a ticket for the outbox, a webhook for its deliveries.
    func group(_ queue: LeaseQueue) async throws -> Int64 {
        switch queue.table {
        case LeaseQueue.outbox.table: try await ticket()
        case LeaseQueue.webhookDeliveries.table: try await webhook()
        default: preconditionFailure("\(queue.table) has no groups")
        }
    }

    /// A row of `queue` due at `due`; in `group` for a grouped queue (a new group if none is given).
    @discardableResult
    func add(_ queue: LeaseQueue, due: Date, group: Int64? = nil) async throws -> Int64 {
        let due = due.ms
        switch queue.table {
        case LeaseQueue.jobs.table:
            return try await sql.int64("""
                INSERT INTO jobs (kind, account, subject_id, next_attempt_at) VALUES ('media', 'line-1', 1, \(due)) RETURNING id
                """)
        case LeaseQueue.outbox.table:
            let ticket = if let group { group } else { try await self.group(queue) }
            let message = try await sql.int64("""
                INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
                SELECT id, last_identity_id, 'outbound', 'line', 'line-1', '{"text":"reply"}', 'reply', 'queued', '\(UUID())', 0, 0
                FROM tickets WHERE id = \(ticket) RETURNING id
                """)
            return try await sql.int64("""
                INSERT INTO outbox (message_id, ticket_id, account, next_attempt_at) VALUES (\(message), \(ticket), 'line-1', \(due)) RETURNING id
                """)
        case LeaseQueue.webhookDeliveries.table:
            let webhook = if let group { group } else { try await self.group(queue) }
            return try await sql.int64("""
                INSERT INTO webhook_deliveries (webhook_id, event, payload, next_attempt_at, created_at)
                VALUES (\(webhook), 'message.created', '{}', \(due), 0) RETURNING id
                """)
        case LeaseQueue.alerts.table:
            let agent = try await sql.int64("""
                INSERT INTO agents (email, name, role, max_tickets, created_at, updated_at) VALUES ('\(UUID())@example.com', 'Agent', 'agent', 5, 0, 0) RETURNING id
                """)
            return try await sql.int64("""
                INSERT INTO notifications (agent_id, medium, event, ticket_id, summary, due_at, created_at)
                VALUES (\(agent), 'email', 'ticket.assigned', 1, 'A ticket for you', \(due), 0) RETURNING id
                """)
        default:
            preconditionFailure("no fixture for \(queue.table)")
        }
    }

    /// A row of `queue` as stored now, or nil once it is deleted.
    func row(_ queue: LeaseQueue, _ id: Int64) async throws -> QueueRow? {
        let status = if case .status = queue.finish { "status" } else { "NULL" }
        let rows = try await sql.rows("""
            SELECT CAST(attempts AS BIGINT), leased_until, last_error, \(status), \(queue.dueColumn) FROM \(queue.table) WHERE id = \(id)
            """)
        return rows.first.map { QueueRow(attempts: $0[0].int, leasedUntil: $0[1].int, lastError: $0[2].text, status: $0[3].text, due: $0[4].int) }
    }

    /// How many rows `queue` holds, finished or not.
    func count(_ queue: LeaseQueue) async throws -> Int64 {
        try await sql.int64("SELECT count(*) FROM \(queue.table)")
    }

    private func ticket() async throws -> Int64 {
        let contact = try await sql.int64("INSERT INTO contacts (display_name, created_at, updated_at) VALUES ('Customer', 0, 0) RETURNING id")
        let identity = try await sql.int64("""
            INSERT INTO identities (contact_id, account, channel, platform_user_id, created_at) VALUES (\(contact), 'line-1', 'line', 'U\(UUID())', 0) RETURNING id
            """)
        return try await sql.int64("""
            INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(contact), 'open', \(identity), 0, 0) RETURNING id
            """)
    }

    private func webhook() async throws -> Int64 {
        try await sql.int64("INSERT INTO webhooks (url, secret, events, created_at) VALUES ('https://example.com/hook', 'secret', '[]', 0) RETURNING id")
    }
}

/// A queue row's lease-queue columns (`status` nil for a queue that deletes finished rows).
struct QueueRow: Equatable {
    var attempts: Int64?
    var leasedUntil: Int64?
    var lastError: String?
    var status: String?
    var due: Int64?
}
