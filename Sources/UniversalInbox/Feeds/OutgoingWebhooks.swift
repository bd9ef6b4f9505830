import Foundation
import GRDB

/// A CRM (or any system) told about tickets and messages: `ticket.created`, `ticket.updated`
/// (assignment, status, priority, tags, merge... one per history entry) and `message.created`.
public struct OutgoingWebhook: Sendable, Equatable, Codable {
    public static let eventTypes = ["ticket.created", "ticket.updated", "message.created"]

    public var id: Int64
    public var url: String
    /// The HMAC-SHA256 key for `X-Bridge-Signature`; shown when the webhook is created.
    public var secret: String?
    /// Event types, or `["*"]` for all.
    public var events: [String]
    public var active: Bool
}

/// One event on its way to one webhook.
public struct WebhookDelivery: Sendable, Equatable {
    /// The delivery row's lease; a report on the delivery presents it.
    public var lease: Lease
    public var id: Int64 { lease.id }
    public var webhookId: Int64
    public var url: String
    public var secret: String
    public var event: String
    public var payload: String
    /// Attempts made before this one.
    public var attempts: Int
}

/// A delivery as the API shows it.
public struct WebhookDeliveryStatus: Sendable, Equatable, Codable {
    public var id: Int64
    public var event: String
    public var status: String
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?
}

extension Inbox {
    public func createWebhook(url: String, secret: String, events: [String]) async throws -> OutgoingWebhook {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw InboxError.unprocessable(code: "invalid_url", message: "url must be an http(s) URL")
        }
        let events = events.isEmpty ? ["*"] : events
        if let unknown = events.first(where: { $0 != "*" && !OutgoingWebhook.eventTypes.contains($0) }) {
            throw InboxError.invalid(code: "invalid_event", message: "\(unknown) is not an event; use \(OutgoingWebhook.eventTypes.joined(separator: ", ")) or *")
        }
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE active = 1") == nil {
                // The feed idles while there are no webhooks: the first one starts from now.
                try Self.moveFeedToNow(db, "webhooks")
            }
            try db.execute(
                sql: "INSERT INTO webhooks (url, secret, events, created_at) VALUES (?, ?, ?, ?)",
                arguments: [url, secret, try ContentCoding.encode(events), now])
            return db.lastInsertedRowID
        }
        bus.publish([.webhookEventsQueued])
        return OutgoingWebhook(id: id, url: url, secret: secret, events: events, active: true)
    }

    public func webhooks() async throws -> [OutgoingWebhook] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhooks ORDER BY id").map {
                OutgoingWebhook(
                    id: $0["id"], url: $0["url"], secret: nil, events: (try? ContentCoding.decode([String].self, $0["events"])) ?? [], active: $0["active"])
            }
        }
    }

    public func deleteWebhook(id: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else { throw InboxError.notFound("webhook \(id)") }
        }
    }

    public func webhookDeliveries(webhookId: Int64, limit: Int = 100) async throws -> [WebhookDeliveryStatus]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ?", arguments: [webhookId]) != nil else { return nil }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?", arguments: [webhookId, limit]
            ).map {
                WebhookDeliveryStatus(
                    id: $0["id"], event: $0["event"], status: $0["status"], attempts: $0["attempts"], lastError: $0["last_error"],
                    createdAt: Date(ms: $0["created_at"]), deliveredAt: ($0["delivered_at"] as Int64?).map { Date(ms: $0) })
            }
        }
    }

    /// Reads the event log past the webhooks' cursor (new tickets, messages and history entries) and
    /// queues a delivery for each webhook that wants the event, in the log's order. A new ticket is
    /// described as it is when the feed reads it. Returns how many were queued.
    @discardableResult
    public func feedWebhooks(limit: Int = 500) async throws -> Int {
        // No webhooks, no work (and no write competing with ingest).
        guard try await database.pool.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE active = 1") }) != nil else {
            return 0
        }
        let now = clock().ms
        let queued: Int = try await database.pool.write { db in
            let hooks = try Row.fetchAll(db, sql: "SELECT id, events FROM webhooks WHERE active = 1").map {
                (id: $0["id"] as Int64, events: Set((try? ContentCoding.decode([String].self, $0["events"])) ?? []))
            }
            var queued = 0
            func deliver(_ event: String, _ data: some Encodable, at createdAt: Int64) throws {
                let payload = try WebhookPayload.encode(WebhookPayload(event: event, createdAt: Date(ms: createdAt), data: data))
                for hook in hooks where hook.events.contains("*") || hook.events.contains(event) {
                    try db.execute(sql: """
                        INSERT INTO webhook_deliveries (webhook_id, event, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
                        """, arguments: [hook.id, event, payload, now, now])
                    queued += 1
                }
            }
            for event in try Self.followLog(db, "webhooks", types: [.ticketOpened, .message, .history], limit: limit) {
                switch event.type {
                case .ticketOpened:
                    let row = try Row.fetchOne(
                        db, sql: "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?", arguments: [event.ticketId])
                    if let row { try deliver("ticket.created", try Self.summary(row, db), at: row["created_at"]) }
                case .message:
                    if let row = try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [event.messageId]) {
                        try deliver("message.created", try Self.message(row, attachments: []), at: row["created_at"])
                    }
                default:
                    guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ticket_events WHERE id = ?", arguments: [event.historyId]) else { continue }
                    let entry = TicketUpdate(
                        ticketId: row["ticket_id"], kind: row["kind"], actor: row["actor"],
                        detail: (try? ContentCoding.decode([String: String].self, row["detail"])) ?? [:])
                    try deliver("ticket.updated", entry, at: row["created_at"])
                }
            }
            return queued
        }
        if queued > 0 { bus.publish([.webhookEventsQueued]) }
        return queued
    }

    /// Queues the ticket for one webhook as `rule.fired` (a rule's "call a webhook" action).
    func queueRuleWebhook(_ webhookId: Int64, rule: Rule, ticketId: Int64) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ? AND active = 1", arguments: [webhookId]) != nil else {
                throw InboxError.notFound("webhook \(webhookId)")
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?", arguments: [ticketId])
            else { throw InboxError.notFound("ticket \(ticketId)") }
            let payload = try WebhookPayload.encode(
                WebhookPayload(event: "rule.fired", createdAt: Date(ms: now), data: RuleFired(rule: rule.name, ruleId: rule.id, ticket: try Self.summary(row, db))))
            try db.execute(sql: """
                INSERT INTO webhook_deliveries (webhook_id, event, payload, next_attempt_at, created_at) VALUES (?, 'rule.fired', ?, ?, ?)
                """, arguments: [webhookId, payload, now, now])
        }
        bus.publish([.webhookEventsQueued])
    }

    /// Leases due deliveries (`LeaseQueue.webhookDeliveries`): for each webhook only its oldest
    /// pending one, so a receiver gets the events in the log's order (a delivery waiting for its
    /// retry holds back the later ones).
    public func claimWebhookDeliveries(limit: Int, lease: TimeInterval) async throws -> [WebhookDelivery] {
        try await claim(.webhookDeliveries, limit: limit, lease: lease) { db, leases, _ in
            try Self.rows(db, for: leases, sql: """
                SELECT d.id AS lease_id, d.webhook_id, d.event, d.payload, d.attempts, w.url, w.secret
                FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id IN ({ids})
                """
            ).map { lease, row in
                WebhookDelivery(
                    lease: lease, webhookId: row["webhook_id"], url: row["url"], secret: row["secret"], event: row["event"], payload: row["payload"],
                    attempts: row["attempts"])
            }
        }
    }

    /// Records a delivery's outcome: delivered, retry at `next`, or failed for good.
    public func webhookDelivered(_ delivery: WebhookDelivery, error: String?, retryAt next: Date?) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            let queue = LeaseQueue.webhookDeliveries
            if error == nil {
                try queue.complete(db, delivery.lease, status: "delivered", setting: ["delivered_at": now])
            } else if let next {
                try queue.reschedule(db, delivery.lease, at: next.ms, error: error)
            } else {
                try queue.complete(db, delivery.lease, status: "failed", error: error)
            }
        }
    }
}

private struct WebhookPayload<Payload: Encodable>: Encodable {
    var event: String
    var createdAt: Date
    var data: Payload

    /// JSON as the REST API writes it: sorted keys, ISO-8601 times with milliseconds.
    static func encode(_ value: Self) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

private struct RuleFired: Encodable {
    var rule: String
    var ruleId: Int64
    var ticket: TicketSummary
}

private struct TicketUpdate: Encodable {
    var ticketId: Int64
    var kind: String
    var actor: String
    var detail: [String: String]
}
