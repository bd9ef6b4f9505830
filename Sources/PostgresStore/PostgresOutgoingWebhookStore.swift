import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `OutgoingWebhookStore` on PostgreSQL, for several bridge processes on one database.
///
/// **A batch is queued once.** `queue(_:movingCursorFrom:to:now:)` locks the `webhooks.log` cursor
/// row (`FOR UPDATE`) and writes only if the cursor is still where the batch began: of two
/// processes that read the same batch, the second waits for the first to commit, sees the moved
/// cursor and writes nothing. `pendingEvents` reads entries only up to the log's head as read
/// first (every entry up to a committed head is committed: `append_event` numbers them under a row
/// lock on `event_seq`), so the cursor never passes an entry it has not read.
///
/// **Each webhook's deliveries are numbered in commit order**, as the lease queue's one-at-a-time
/// rule needs (`LeaseQueue.oneAtATimePer`): both writers of deliveries lock the webhook's row
/// (`FOR SHARE` would let two take ids out of order, so `FOR UPDATE`) before inserting.
public struct PostgresOutgoingWebhookStore: OutgoingWebhookStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(url: String, secret: String, events: [String], now: Date) async throws -> Int64 {
        let events = try OutgoingWebhook.storedEvents(events)
        return try await client.transaction(logger: logger) { connection in
            // The cursor row is the lock: two first webhooks created at once move it once.
            _ = try await exists(try await connection.query("SELECT last_id FROM feed_cursors WHERE name = 'webhooks.log' FOR UPDATE", logger: logger))
            if try await !exists(try await connection.query("SELECT 1 FROM webhooks WHERE active = 1 LIMIT 1", logger: logger)) {
                try await connection.query("""
                    INSERT INTO feed_cursors (name, last_id) SELECT 'webhooks.log', seq FROM event_seq
                    ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id
                    """, logger: logger)
            }
            let rows = try await connection.query("""
                INSERT INTO webhooks (url, secret, events, created_at) VALUES (\(url), \(secret), \(events), \(now.ms)) RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { return id }
            preconditionFailure("INSERT ... RETURNING gave no row")
        }
    }

    public func webhooks() async throws -> [OutgoingWebhook] {
        var hooks: [OutgoingWebhook] = []
        let rows = try await client.query("SELECT id, url, events, active FROM webhooks ORDER BY id", logger: logger)
        for try await (id, url, events, active) in rows.decode((Int64, String, String, Int).self) {
            hooks.append(OutgoingWebhook(id: id, url: url, secret: nil, events: OutgoingWebhook.events(stored: events), active: active != 0))
        }
        return hooks
    }

    public func delete(id: Int64) async throws -> Bool {
        try await exists(try await client.query("DELETE FROM webhooks WHERE id = \(id) RETURNING id", logger: logger))
    }

    public func deliveries(webhookId: Int64, limit: Int) async throws -> [WebhookDeliveryStatus]? {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            guard try await exists(try await connection.query("SELECT 1 FROM webhooks WHERE id = \(webhookId)", logger: logger)) else { return nil }
            let rows = try await connection.query("""
                SELECT id, event, status, attempts, last_error, created_at, delivered_at FROM webhook_deliveries
                WHERE webhook_id = \(webhookId) ORDER BY id DESC LIMIT \(Int64(limit))
                """, logger: logger)
            var deliveries: [WebhookDeliveryStatus] = []
            for try await (id, event, status, attempts, lastError, createdAt, deliveredAt)
                in rows.decode((Int64, String, String, Int, String?, Int64, Int64?).self)
            {
                deliveries.append(WebhookDeliveryStatus(
                    id: id, event: event, status: status, attempts: attempts, lastError: lastError, createdAt: Date(ms: createdAt),
                    deliveredAt: deliveredAt.map { Date(ms: $0) }))
            }
            return deliveries
        }
    }

    public func pendingEvents(limit: Int) async throws -> WebhookFeedBatch? {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var subscriptions: [WebhookFeedBatch.Subscription] = []
            for try await (id, events) in try await connection.query("SELECT id, events FROM webhooks WHERE active = 1 ORDER BY id", logger: logger)
                .decode((Int64, String).self)
            {
                subscriptions.append(WebhookFeedBatch.Subscription(id: id, events: Set(OutgoingWebhook.events(stored: events))))
            }
            guard !subscriptions.isEmpty else { return nil }
            let read = try await PostgresFeedRead.read(
                connection, cursor: "webhooks.log", kinds: WebhookFeedBatch.followedKinds, limit: limit, lockingCursor: false, logger: logger)
            let events = read.events
            var history: [Int64: WebhookFeedBatch.HistoryEntry] = [:]
            let historyIds = events.compactMap(\.historyId)
            if !historyIds.isEmpty {
                let entries = try await connection.query(
                    "SELECT id, ticket_id, kind, actor, detail, created_at FROM ticket_events WHERE id = ANY(\(historyIds))", logger: logger)
                for try await (id, ticketId, kind, actor, detail, createdAt) in entries.decode((Int64, Int64, String, String, String, Int64).self) {
                    history[id] = WebhookFeedBatch.HistoryEntry(ticketId: ticketId, kind: kind, actor: actor, detail: detail, createdAt: Date(ms: createdAt))
                }
            }
            return WebhookFeedBatch(subscriptions: subscriptions, events: events, history: history, from: read.from, next: read.next)
        }
    }

    public func queue(_ deliveries: [NewWebhookDelivery], movingCursorFrom from: Int64, to: Int64, now: Date) async throws -> Bool {
        try await client.transaction(logger: logger) { connection in
            var cursor: Int64?
            for try await last in try await connection.query("SELECT last_id FROM feed_cursors WHERE name = 'webhooks.log' FOR UPDATE", logger: logger)
                .decode(Int64.self)
            {
                cursor = last
            }
            if let cursor, cursor != from { return false }
            try await connection.query("""
                INSERT INTO feed_cursors (name, last_id) VALUES ('webhooks.log', \(to))
                ON CONFLICT (name) DO UPDATE SET last_id = greatest(feed_cursors.last_id, excluded.last_id)
                """, logger: logger)
            for delivery in deliveries { try await insert(connection, delivery, now: now) }
            return true
        }
    }

    public func delivery(id: Int64, webhookId: Int64) async throws -> NewWebhookDelivery? {
        try await client.query(
            "SELECT event, payload FROM webhook_deliveries WHERE id = \(id) AND webhook_id = \(webhookId)", logger: logger
        ).decode((String, String).self).all().first.map { NewWebhookDelivery(webhookId: webhookId, event: $0.0, payload: $0.1) }
    }

    public func queue(_ delivery: NewWebhookDelivery, now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            guard try await exists(try await connection.query(
                "SELECT 1 FROM webhooks WHERE id = \(delivery.webhookId) AND active = 1 FOR UPDATE", logger: logger))
            else { throw InboxError.notFound("webhook \(delivery.webhookId)") }
            try await insert(connection, delivery, now: now)
        }
    }

    /// Inserts a delivery under its webhook's row lock, so each webhook's ids follow commit order.
    private func insert(_ connection: PostgresConnection, _ delivery: NewWebhookDelivery, now: Date) async throws {
        try await connection.query("""
            WITH hook AS (SELECT id FROM webhooks WHERE id = \(delivery.webhookId) FOR UPDATE)
            INSERT INTO webhook_deliveries (webhook_id, event, payload, next_attempt_at, created_at)
            SELECT id, \(delivery.event), \(delivery.payload), \(now.ms), \(now.ms) FROM hook
            """, logger: logger)
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [WebhookDelivery] {
        return try await LeaseQueue.webhookDeliveries.claim(with: client, limit: limit, lease: lease, now: now, logger: logger) { connection, leases in
            let rows = try await connection.query("""
                SELECT d.id, d.webhook_id, d.event, d.payload, d.attempts, w.url, w.secret
                FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ANY(\(leases.map(\.id)))
                """, logger: logger)
            var byId: [Int64: (webhookId: Int64, event: String, payload: String, attempts: Int, url: String, secret: String)] = [:]
            for try await (id, webhookId, event, payload, attempts, url, secret) in rows.decode((Int64, Int64, String, String, Int, String, String).self) {
                byId[id] = (webhookId, event, payload, attempts, url, secret)
            }
            return leases.compactMap { lease in
                byId[lease.id].map {
                    WebhookDelivery(lease: lease, webhookId: $0.webhookId, url: $0.url, secret: $0.secret, event: $0.event, payload: $0.payload, attempts: $0.attempts)
                }
            }
        }
    }

    public func finish(_ delivery: WebhookDelivery, error: String?, retryAt next: Date?, now: Date) async throws {
        let queue = LeaseQueue.webhookDeliveries
        try await client.transaction(logger: logger) { connection in
            if error == nil {
                try await queue.complete(on: connection, delivery.lease, status: "delivered", setting: ["delivered_at": now.ms], logger: logger)
            } else if let next {
                try await queue.reschedule(on: connection, delivery.lease, at: next.ms, error: error, logger: logger)
            } else {
                try await queue.complete(on: connection, delivery.lease, status: "failed", error: error, logger: logger)
            }
        }
    }

    private func exists(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }

}
