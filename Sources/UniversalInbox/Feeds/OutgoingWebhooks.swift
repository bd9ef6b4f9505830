import Foundation

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

    public init(id: Int64, url: String, secret: String?, events: [String], active: Bool) {
        self.id = id
        self.url = url
        self.secret = secret
        self.events = events
        self.active = active
    }
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

    public init(lease: Lease, webhookId: Int64, url: String, secret: String, event: String, payload: String, attempts: Int) {
        self.lease = lease
        self.webhookId = webhookId
        self.url = url
        self.secret = secret
        self.event = event
        self.payload = payload
        self.attempts = attempts
    }
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

    public init(id: Int64, event: String, status: String, attempts: Int, lastError: String?, createdAt: Date, deliveredAt: Date?) {
        self.id = id
        self.event = event
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
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
        let id = try await stores.webhookStore.create(url: url, secret: secret, events: events, now: clock())
        bus.publish([.webhookEventsQueued])
        return OutgoingWebhook(id: id, url: url, secret: secret, events: events, active: true)
    }

    public func webhooks() async throws -> [OutgoingWebhook] {
        try await stores.webhookStore.webhooks()
    }

    public func deleteWebhook(id: Int64) async throws {
        guard try await stores.webhookStore.delete(id: id) else { throw InboxError.notFound("webhook \(id)") }
    }

    public func webhookDeliveries(webhookId: Int64, limit: Int = 100) async throws -> [WebhookDeliveryStatus]? {
        try await stores.webhookStore.deliveries(webhookId: webhookId, limit: limit)
    }

    /// Queues a copy of one of the webhook's deliveries (same event and body, a new delivery id, so
    /// a receiver that dropped or failed it takes it again), sent after the webhook's earlier ones.
    /// `notFound` for no such delivery of that webhook, or a webhook turned off.
    public func redeliver(deliveryId: Int64, webhookId: Int64) async throws {
        guard let delivery = try await stores.webhookStore.delivery(id: deliveryId, webhookId: webhookId) else {
            throw InboxError.notFound("delivery \(deliveryId) of webhook \(webhookId)")
        }
        try await stores.webhookStore.queue(delivery, now: clock())
        bus.publish([.webhookEventsQueued])
    }

    /// Reads the event log past the webhooks' cursor (new tickets, messages and history entries) and
    /// queues a delivery for each webhook that wants the event, in the log's order. A new ticket is
    /// described as it is when the feed reads it. Returns how many were queued (none when another
    /// process queued the same entries first: `OutgoingWebhookStore.queue`).
    @discardableResult
    public func feedWebhooks(limit: Int = 500) async throws -> Int {
        // No webhooks, no work (and no write competing with ingest).
        guard let batch = try await stores.webhookStore.pendingEvents(limit: limit), !batch.events.isEmpty || batch.next != batch.from else { return 0 }
        var deliveries: [NewWebhookDelivery] = []
        func deliver(_ event: String, _ data: some Encodable, at createdAt: Date) throws {
            let payload = try WebhookPayload.encode(WebhookPayload(event: event, createdAt: createdAt, data: data))
            for hook in batch.subscriptions where hook.wants(event) {
                deliveries.append(NewWebhookDelivery(webhookId: hook.id, event: event, payload: payload))
            }
        }
        for event in batch.events {
            switch event.type {
            case .ticketOpened:
                if let ticket = try await ticket(id: event.ticketId) { try deliver("ticket.created", ticket, at: ticket.createdAt) }
            case .message:
                // A message is described as it was filed: its attachments follow in their own time.
                if let id = event.messageId, var message = try await message(id: id) {
                    message.attachments = []
                    try deliver("message.created", message, at: message.createdAt)
                }
            default:
                guard let id = event.historyId, let entry = batch.history[id] else { continue }
                let update = TicketUpdate(
                    ticketId: entry.ticketId, kind: entry.kind, actor: entry.actor,
                    detail: (try? ContentCoding.decode([String: String].self, entry.detail)) ?? [:])
                try deliver("ticket.updated", update, at: entry.createdAt)
            }
        }
        guard try await stores.webhookStore.queue(deliveries, movingCursorFrom: batch.from, to: batch.next, now: clock()) else { return 0 }
        if !deliveries.isEmpty { bus.publish([.webhookEventsQueued]) }
        return deliveries.count
    }

    /// Queues the ticket for one webhook as `rule.fired` (a rule's "call a webhook" action).
    func queueRuleWebhook(_ webhookId: Int64, rule: Rule, ticketId: Int64) async throws {
        let now = clock()
        guard let ticket = try await ticket(id: ticketId) else { throw InboxError.notFound("ticket \(ticketId)") }
        let payload = try WebhookPayload.encode(WebhookPayload(event: "rule.fired", createdAt: now, data: RuleFired(rule: rule.name, ruleId: rule.id, ticket: ticket)))
        try await stores.webhookStore.queue(NewWebhookDelivery(webhookId: webhookId, event: "rule.fired", payload: payload), now: now)
        bus.publish([.webhookEventsQueued])
    }

    /// Leases due deliveries (`LeaseQueue.webhookDeliveries`): for each webhook only its oldest
    /// pending one, so a receiver gets the events in the log's order (a delivery waiting for its
    /// retry holds back the later ones).
    public func claimWebhookDeliveries(limit: Int, lease: TimeInterval) async throws -> [WebhookDelivery] {
        try await stores.webhookStore.claim(limit: limit, lease: lease, now: clock())
    }

    /// Records a delivery's outcome: delivered, retry at `next`, or failed for good.
    public func webhookDelivered(_ delivery: WebhookDelivery, error: String?, retryAt next: Date?) async throws {
        try await stores.webhookStore.finish(delivery, error: error, retryAt: next, now: clock())
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
