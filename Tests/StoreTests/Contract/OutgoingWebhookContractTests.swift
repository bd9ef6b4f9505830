import Foundation
import Testing
import UniversalInbox

/// `OutgoingWebhookStore` as every implementation must keep it: subscriptions listed without their
/// secrets and deleted with their deliveries; the feed starting from now when the first webhook
/// comes, reading past its cursor and queueing a batch once (a second feed with the same batch
/// writes nothing); rule deliveries only for active webhooks; claims one at a time per webhook
/// with the URL and secret, and outcomes kept for the API.
@Suite struct OutgoingWebhookContractTests {
    static let people = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
    ]

    static func ticket(_ id: Int64) -> String {
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(id), 1, 'open', 1, 1, 1)"
    }

    static func message(_ id: Int64, ticket: Int64) -> String {
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (\(id), \(ticket), 1, 'in', 'line', 'line/main', '{}', 'Hi', 'received', 'k\(id)', 2, 2)
        """
    }

    static let now = Date(ms: 1_000_000)
    static let secret = "whsec_0123456789abcdef"

    @Test(arguments: StoreKind.available)
    func webhooksAreListedWithoutSecretsAndDeletedWithTheirDeliveries(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let hooks = stores.webhookStore
            let crm = try await hooks.create(url: "https://crm.example.com/hook", secret: Self.secret, events: ["*"], now: Self.now)
            let audit = try await hooks.create(url: "https://audit.example.com/in", secret: "another-secret-value", events: ["ticket.updated"], now: Self.now)
            #expect(try await hooks.webhooks() == [
                OutgoingWebhook(id: crm, url: "https://crm.example.com/hook", secret: nil, events: ["*"], active: true),
                OutgoingWebhook(id: audit, url: "https://audit.example.com/in", secret: nil, events: ["ticket.updated"], active: true),
            ])
            try await hooks.queue(NewWebhookDelivery(webhookId: crm, event: "rule.fired", payload: "{}"), now: Self.now)
            #expect(try await hooks.deliveries(webhookId: crm, limit: 10)?.count == 1)
            #expect(try await hooks.delete(id: crm))
            #expect(try await hooks.delete(id: crm) == false)
            #expect(try await hooks.deliveries(webhookId: crm, limit: 10) == nil)
            #expect(try await stores.sql.rows("SELECT count(*) FROM webhook_deliveries") == [[.int(0)]])
            #expect(try await hooks.webhooks().map(\.id) == [audit])
        }
    }

    @Test(arguments: StoreKind.available)
    func theFirstWebhookStartsTheFeedFromNowAndTheFeedReadsPastItsCursor(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            let hooks = stores.webhookStore
            // Before any webhook: nothing to read, whatever the log holds.
            try await stores.sql.execute(Self.ticket(1))
            #expect(try await hooks.pendingEvents(limit: 10) == nil)
            let id = try await hooks.create(url: "https://crm.example.com/hook", secret: Self.secret, events: ["message.created"], now: Self.now)
            let head = try await stores.eventLog.head()
            let empty = try #require(try await hooks.pendingEvents(limit: 10))
            #expect(empty.events.isEmpty && empty.from == head && empty.next == head)
            #expect(empty.subscriptions == [WebhookFeedBatch.Subscription(id: id, events: ["message.created"])])
            // A new ticket, a message, a history entry (and a status change the feed does not follow).
            try await stores.sql.execute(Self.ticket(2))
            try await stores.sql.execute(Self.message(1, ticket: 2))
            try await stores.sql.execute("""
                INSERT INTO ticket_events (id, ticket_id, kind, actor, detail, created_at) VALUES (5, 2, 'assigned', 'agent:7', '{"agentId":"7"}', 3)
                """)
            try await stores.sql.execute("UPDATE tickets SET status = 'resolved' WHERE id = 2")
            let batch = try #require(try await hooks.pendingEvents(limit: 10))
            #expect(batch.events.map(\.type) == [.ticketOpened, .message, .history])
            #expect(batch.events[1].messageId == 1)
            #expect(batch.history == [5: WebhookFeedBatch.HistoryEntry(ticketId: 2, kind: "assigned", actor: "agent:7", detail: #"{"agentId":"7"}"#, createdAt: Date(ms: 3))])
            let newHead = try await stores.eventLog.head()
            #expect(batch.from == head && batch.next == newHead)
            // A short limit ends the batch at its last entry.
            let first = try #require(try await hooks.pendingEvents(limit: 1))
            #expect(first.events.map(\.type) == [.ticketOpened] && first.next == first.events[0].seq)
            #expect(try await hooks.queue([NewWebhookDelivery(webhookId: id, event: "message.created", payload: "1")], movingCursorFrom: batch.from, to: batch.next, now: Self.now))
            let after = try #require(try await hooks.pendingEvents(limit: 10))
            #expect(after.events.isEmpty && after.from == batch.next)
        }
    }

    @Test(arguments: StoreKind.available)
    func aBatchIsQueuedOnceAndAStaleFeedWritesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            let hooks = stores.webhookStore
            let a = try await hooks.create(url: "https://a.example.com/", secret: Self.secret, events: ["*"], now: Self.now)
            let b = try await hooks.create(url: "https://b.example.com/", secret: Self.secret, events: ["*"], now: Self.now)
            try await stores.sql.execute(Self.ticket(1))
            let batch = try #require(try await hooks.pendingEvents(limit: 10))
            let deliveries = [a, b].map { NewWebhookDelivery(webhookId: $0, event: "ticket.created", payload: "ticket 1") }
            #expect(try await hooks.queue(deliveries, movingCursorFrom: batch.from, to: batch.next, now: Self.now))
            // The same batch again (another feed read it too): nothing more.
            #expect(try await hooks.queue(deliveries, movingCursorFrom: batch.from, to: batch.next, now: Self.now) == false)
            #expect(try await stores.sql.rows("SELECT webhook_id, event, payload, status FROM webhook_deliveries ORDER BY id") == [
                [.int(a), .text("ticket.created"), .text("ticket 1"), .text("pending")], [.int(b), .text("ticket.created"), .text("ticket 1"), .text("pending")],
            ])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRuleDeliveryNeedsAnActiveWebhook(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let hooks = stores.webhookStore
            let id = try await hooks.create(url: "https://a.example.com/", secret: Self.secret, events: ["*"], now: Self.now)
            await #expect(throws: InboxError.notFound("webhook \(id + 1)")) {
                try await hooks.queue(NewWebhookDelivery(webhookId: id + 1, event: "rule.fired", payload: "{}"), now: Self.now)
            }
            try await stores.sql.execute("UPDATE webhooks SET active = 0 WHERE id = \(id)")
            await #expect(throws: InboxError.notFound("webhook \(id)")) {
                try await hooks.queue(NewWebhookDelivery(webhookId: id, event: "rule.fired", payload: "{}"), now: Self.now)
            }
            #expect(try await stores.sql.rows("SELECT count(*) FROM webhook_deliveries") == [[.int(0)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func claimsGoOneAtATimePerWebhookWithTheSecretAndOutcomesStay(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let hooks = stores.webhookStore
            let a = try await hooks.create(url: "https://a.example.com/", secret: Self.secret, events: ["*"], now: Self.now)
            let b = try await hooks.create(url: "https://b.example.com/", secret: "b-secret-0123456789", events: ["*"], now: Self.now)
            for (hook, payload) in [(a, "a1"), (a, "a2"), (b, "b1")] {
                try await hooks.queue(NewWebhookDelivery(webhookId: hook, event: "rule.fired", payload: payload), now: Self.now)
            }
            let claimed = try await hooks.claim(limit: 10, lease: 60, now: Self.now)
            #expect(claimed.map(\.payload) == ["a1", "b1"])
            #expect(claimed[0].url == "https://a.example.com/" && claimed[0].secret == Self.secret && claimed[0].event == "rule.fired" && claimed[0].attempts == 0)
            #expect(claimed[1].webhookId == b && claimed[1].secret == "b-secret-0123456789")
            // Printed (say, in a log line), a delivery leaves its secret out.
            #expect(!"\(claimed[0])".contains(Self.secret) && !String(reflecting: claimed[0]).contains(Self.secret))
            // a2 waits behind a1, also while a1 waits for its retry.
            try await hooks.finish(claimed[0], error: "http_503", retryAt: Date(ms: 2_000_000), now: Self.now)
            try await hooks.finish(claimed[1], error: nil, retryAt: nil, now: Date(ms: 1_000_100))
            #expect(try await hooks.claim(limit: 10, lease: 60, now: Date(ms: 1_500_000)).isEmpty)
            let retry = try await hooks.claim(limit: 10, lease: 60, now: Date(ms: 2_000_000))
            #expect(retry.map(\.payload) == ["a1"] && retry[0].attempts == 1)
            await #expect(throws: LeaseLost(table: "webhook_deliveries", id: claimed[0].id)) {
                try await hooks.finish(claimed[0], error: nil, retryAt: nil, now: Date(ms: 2_000_000))
            }
            try await hooks.finish(retry[0], error: "http_410", retryAt: nil, now: Date(ms: 2_000_100))
            #expect(try await hooks.claim(limit: 10, lease: 60, now: Date(ms: 2_000_100)).map(\.payload) == ["a2"])
            let shown = try #require(try await hooks.deliveries(webhookId: a, limit: 10))
            #expect(shown.map(\.status) == ["pending", "failed"])
            #expect(shown[1].attempts == 2 && shown[1].lastError == "http_410" && shown[1].deliveredAt == nil && shown[1].createdAt == Self.now)
            #expect(try await hooks.deliveries(webhookId: b, limit: 10)?.map { [$0.status, "\($0.deliveredAt?.ms ?? 0)"] } == [["delivered", "1000100"]])
            #expect(try await hooks.deliveries(webhookId: a, limit: 1)?.count == 1)
        }
    }

    /// Two processes feeding at once, in small batches, over the same log: every entry reaches
    /// every webhook once (the cursor check in `queue`; without it both would queue a batch).
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesFeedingAtOnceQueueEachEntryOncePerWebhook() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for sql in Self.people { try await processes[0].sql.execute(sql) }
            let a = try await processes[0].webhookStore.create(url: "https://a.example.com/", secret: Self.secret, events: ["*"], now: Self.now)
            let b = try await processes[1].webhookStore.create(url: "https://b.example.com/", secret: Self.secret, events: ["*"], now: Self.now)
            for id in Int64(1)...30 { try await processes[0].sql.execute(Self.ticket(id)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for process in processes {
                    group.addTask {
                        for _ in 0..<30 {
                            guard let batch = try await process.webhookStore.pendingEvents(limit: 3) else { continue }
                            let deliveries = batch.events.flatMap { event in
                                batch.subscriptions.map { NewWebhookDelivery(webhookId: $0.id, event: "ticket.created", payload: "\(event.ticketId)") }
                            }
                            _ = try await process.webhookStore.queue(deliveries, movingCursorFrom: batch.from, to: batch.next, now: Self.now)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let rows = try await processes[1].sql.rows("SELECT webhook_id, payload FROM webhook_deliveries ORDER BY webhook_id, id")
            let expected = [a, b].flatMap { hook in (1...30).map { [PlainSQL.Value.int(hook), .text("\($0)")] } }
            #expect(rows == expected)
        }
    }
}
