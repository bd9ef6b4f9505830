import Foundation
import GRDB

/// Where outgoing webhooks are kept: the subscriptions (URL, signing secret, events), the feed's
/// cursor over the event log (`webhooks.log`) and the queue of deliveries the sender claims
/// (`LeaseQueue.webhookDeliveries`). One implementation per database (`SQLiteOutgoingWebhookStore`
/// below, `PostgresOutgoingWebhookStore` in PostgresStore), held to one contract (Tests/StoreTests).
/// Checking URLs and events, describing tickets and messages as payloads, and publishing are the
/// domain's (`Inbox.createWebhook`, `Inbox.feedWebhooks`). A secret is only ever handed to the
/// sender with its delivery: lists leave it out, and no error names it.
///
/// **Each log entry is queued once per subscription**: the feed reads a batch past the cursor
/// (`pendingEvents`), describes it, and queues it with `queue(_:movingCursorFrom:to:now:)`, which
/// writes only if the cursor is still where the batch began and moves it in the same transaction;
/// a feed that lost that race (another process queued the batch) writes nothing.
public protocol OutgoingWebhookStore: Sendable {
    /// Adds an active webhook; returns its id. When there was no active webhook, the feed's cursor
    /// first moves to the log's head: the feed idles without webhooks, and the first starts from now.
    func create(url: String, secret: String, events: [String], now: Date) async throws -> Int64

    /// Every webhook, oldest first, without its secret.
    func webhooks() async throws -> [OutgoingWebhook]

    /// Deletes a webhook and its deliveries; returns whether there was one.
    func delete(id: Int64) async throws -> Bool

    /// A webhook's newest `limit` deliveries, newest first; nil if there is no such webhook.
    func deliveries(webhookId: Int64, limit: Int) async throws -> [WebhookDeliveryStatus]?

    /// One of a webhook's deliveries as it was queued (event and payload), to send again; nil when
    /// the webhook has no such delivery.
    func delivery(id: Int64, webhookId: Int64) async throws -> NewWebhookDelivery?

    /// Up to `limit` new tickets, messages and history entries past the cursor, with the active
    /// subscriptions; nil (and nothing read) while no webhook is active.
    func pendingEvents(limit: Int) async throws -> WebhookFeedBatch?

    /// Queues `deliveries` (due at `now`) and moves the cursor from `from` to `to`, in one
    /// transaction, if the cursor is still at `from`. False when another feed moved it first:
    /// nothing is queued.
    func queue(_ deliveries: [NewWebhookDelivery], movingCursorFrom from: Int64, to: Int64, now: Date) async throws -> Bool

    /// Queues one delivery (a rule's "call a webhook" action), due at `now`; `notFound` unless the
    /// webhook exists and is active.
    func queue(_ delivery: NewWebhookDelivery, now: Date) async throws

    /// Leases up to `limit` due deliveries for `lease` seconds, each webhook's oldest pending one
    /// only (a receiver gets the events in the log's order), with its URL and secret.
    func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [WebhookDelivery]

    /// Records a delivery's outcome: delivered (no `error`), retried at `next`, or failed for good.
    /// `LeaseLost` if another worker has claimed it since.
    func finish(_ delivery: WebhookDelivery, error: String?, retryAt next: Date?, now: Date) async throws
}

/// What the webhook feed reads in one go.
public struct WebhookFeedBatch: Sendable, Equatable {
    /// An active webhook and the event types it wants (`*`: all).
    public struct Subscription: Sendable, Equatable {
        public var id: Int64
        public var events: Set<String>

        public init(id: Int64, events: Set<String>) {
            self.id = id
            self.events = events
        }

        public func wants(_ event: String) -> Bool { events.contains("*") || events.contains(event) }
    }

    /// A history entry as a `ticket.updated` payload shows it.
    public struct HistoryEntry: Sendable, Equatable {
        public var ticketId: Int64
        public var kind: String
        public var actor: String
        /// JSON, as stored.
        public var detail: String
        public var createdAt: Date

        public init(ticketId: Int64, kind: String, actor: String, detail: String, createdAt: Date) {
            self.ticketId = ticketId
            self.kind = kind
            self.actor = actor
            self.detail = detail
            self.createdAt = createdAt
        }
    }

    public var subscriptions: [Subscription]
    /// Log entries of the followed kinds, oldest first.
    public var events: [LoggedEvent]
    /// The history entries that `events` point to, by id.
    public var history: [Int64: HistoryEntry]
    /// The cursor when read, and where it goes once the batch is queued.
    public var from: Int64
    public var next: Int64

    public init(subscriptions: [Subscription], events: [LoggedEvent], history: [Int64: HistoryEntry], from: Int64, next: Int64) {
        self.subscriptions = subscriptions
        self.events = events
        self.history = history
        self.from = from
        self.next = next
    }

    /// The log entries the webhook feed follows.
    public static let followedKinds: [LoggedEvent.Kind] = [.ticketOpened, .message, .history]
}

/// A delivery to queue: the signed body is `payload`, byte for byte.
public struct NewWebhookDelivery: Sendable, Equatable {
    public var webhookId: Int64
    public var event: String
    public var payload: String

    public init(webhookId: Int64, event: String, payload: String) {
        self.webhookId = webhookId
        self.event = event
        self.payload = payload
    }
}

/// `OutgoingWebhookStore` on SQLite (SQLite's single writer: the cursor check and the inserts of
/// one `queue` commit together).
public struct SQLiteOutgoingWebhookStore: OutgoingWebhookStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func create(url: String, secret: String, events: [String], now: Date) async throws -> Int64 {
        let events = try OutgoingWebhook.storedEvents(events)
        return try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE active = 1") == nil {
                try Inbox.moveFeedToNow(db, "webhooks")
            }
            try db.execute(sql: "INSERT INTO webhooks (url, secret, events, created_at) VALUES (?, ?, ?, ?)", arguments: [url, secret, events, now.ms])
            return db.lastInsertedRowID
        }
    }

    public func webhooks() async throws -> [OutgoingWebhook] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, url, events, active FROM webhooks ORDER BY id").map {
                OutgoingWebhook(id: $0["id"], url: $0["url"], secret: nil, events: OutgoingWebhook.events(stored: $0["events"]), active: $0["active"])
            }
        }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func deliveries(webhookId: Int64, limit: Int) async throws -> [WebhookDeliveryStatus]? {
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

    public func pendingEvents(limit: Int) async throws -> WebhookFeedBatch? {
        try await database.pool.read { db in
            let subscriptions = try Row.fetchAll(db, sql: "SELECT id, events FROM webhooks WHERE active = 1 ORDER BY id").map {
                WebhookFeedBatch.Subscription(id: $0["id"], events: Set(OutgoingWebhook.events(stored: $0["events"])))
            }
            guard !subscriptions.isEmpty else { return nil }
            let from = try Int64.fetchOne(db, sql: "SELECT last_id FROM feed_cursors WHERE name = 'webhooks.log'") ?? SQLiteEventLogStore.head(db)
            let pending = try Inbox.pendingLog(db, "webhooks", types: WebhookFeedBatch.followedKinds, limit: limit)
            var history: [Int64: WebhookFeedBatch.HistoryEntry] = [:]
            for id in pending.events.compactMap(\.historyId) {
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ticket_events WHERE id = ?", arguments: [id]) else { continue }
                history[id] = WebhookFeedBatch.HistoryEntry(
                    ticketId: row["ticket_id"], kind: row["kind"], actor: row["actor"], detail: row["detail"], createdAt: Date(ms: row["created_at"]))
            }
            return WebhookFeedBatch(subscriptions: subscriptions, events: pending.events, history: history, from: from, next: pending.next)
        }
    }

    public func queue(_ deliveries: [NewWebhookDelivery], movingCursorFrom from: Int64, to: Int64, now: Date) async throws -> Bool {
        try await database.pool.write { db in
            if let at = try Int64.fetchOne(db, sql: "SELECT last_id FROM feed_cursors WHERE name = 'webhooks.log'"), at != from { return false }
            try Inbox.moveLog(db, "webhooks", to: to)
            for delivery in deliveries { try Self.insert(db, delivery, now: now) }
            return true
        }
    }

    public func delivery(id: Int64, webhookId: Int64) async throws -> NewWebhookDelivery? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT event, payload FROM webhook_deliveries WHERE id = ? AND webhook_id = ?", arguments: [id, webhookId])
                .map { NewWebhookDelivery(webhookId: webhookId, event: $0["event"], payload: $0["payload"]) }
        }
    }

    public func queue(_ delivery: NewWebhookDelivery, now: Date) async throws {
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ? AND active = 1", arguments: [delivery.webhookId]) != nil else {
                throw InboxError.notFound("webhook \(delivery.webhookId)")
            }
            try Self.insert(db, delivery, now: now)
        }
    }

    /// Inserts a delivery unless its webhook was deleted since the batch was read.
    private static func insert(_ db: Database, _ delivery: NewWebhookDelivery, now: Date) throws {
        try db.execute(sql: """
            INSERT INTO webhook_deliveries (webhook_id, event, payload, next_attempt_at, created_at) SELECT id, ?, ?, ?, ? FROM webhooks WHERE id = ?
            """, arguments: [delivery.event, delivery.payload, now.ms, now.ms, delivery.webhookId])
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [WebhookDelivery] {
        let queue = LeaseQueue.webhookDeliveries
        guard try await database.pool.read({ db in try queue.hasReady(db, now: now.ms) }) else { return [] }
        return try await database.pool.write { db in
            let leases = try queue.claim(db, limit: limit, lease: lease, now: now.ms)
            guard !leases.isEmpty else { return [] }
            return try Inbox.rows(db, for: leases, sql: """
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

    public func finish(_ delivery: WebhookDelivery, error: String?, retryAt next: Date?, now: Date) async throws {
        try await database.pool.write { db in
            let queue = LeaseQueue.webhookDeliveries
            if error == nil {
                try queue.complete(db, delivery.lease, status: "delivered", setting: ["delivered_at": now.ms])
            } else if let next {
                try queue.reschedule(db, delivery.lease, at: next.ms, error: error)
            } else {
                try queue.complete(db, delivery.lease, status: "failed", error: error)
            }
        }
    }
}

extension OutgoingWebhook {
    /// `events` as stored (JSON); unreadable counts as none.
    public static func events(stored: String) -> [String] {
        (try? ContentCoding.decode([String].self, stored)) ?? []
    }

    /// `events` to store.
    public static func storedEvents(_ events: [String]) throws -> String {
        try ContentCoding.encode(events)
    }
}

/// Printed (in a log line, a failed test's message) without the signing secret.
extension WebhookDelivery: CustomStringConvertible {
    public var description: String { "WebhookDelivery(id: \(id), webhookId: \(webhookId), event: \(event), attempts: \(attempts), url: \(url))" }
}

/// Printed without the signing secret.
extension OutgoingWebhook: CustomStringConvertible {
    public var description: String { "OutgoingWebhook(id: \(id), url: \(url), events: \(events), active: \(active))" }
}
