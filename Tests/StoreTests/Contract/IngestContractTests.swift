import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// `IngestStore` as every implementation must keep it: new events filed into the customer's ticket,
/// an event seen before on the account a duplicate that changes nothing, unreadable events kept once,
/// each webhook of a group answered on its own, and the same events filed by two processes at once
/// stored once, with one contact, identity and open ticket per customer.
@Suite struct IngestContractTests {
    static let line = ChannelAccountRef(kind: .line, id: "main")
    static let whatsapp = ChannelAccountRef(kind: .whatsapp, id: "main")
    static let sms = ChannelAccountRef(kind: .sms, id: "main")
    static let now = Date(ms: 1_700_000_000_000)

    static func text(_ eventId: String, from user: String, name: String? = "Kim", phone: String? = nil, _ text: String = "hello") -> InboundEvent {
        InboundEvent(
            kind: .message, eventId: eventId, occurredAt: Date(ms: 1_699_999_000_000), sender: Sender(id: user, displayName: name, phone: phone),
            message: InboundMessage(id: "m-\(eventId)", content: .text(text)))
    }

    /// Rows of everything ingest writes, in a fixed order, to compare before and after.
    static func everything(_ sql: PlainSQL) async throws -> [[PlainSQL.Value]] {
        var all: [[PlainSQL.Value]] = []
        for query in [
            "SELECT id, display_name, updated_at FROM contacts ORDER BY id",
            "SELECT id, contact_id, account, platform_user_id, display_name, last_inbound_at, blocked FROM identities ORDER BY id",
            "SELECT id, contact_id, status, last_identity_id, updated_at FROM tickets ORDER BY id",
            "SELECT id, ticket_id, identity_id, text, status, updated_at FROM messages ORDER BY id",
            "SELECT account, event_id, received_at FROM processed_events ORDER BY account, event_id",
            "SELECT kind, subject_id FROM jobs ORDER BY id",
            "SELECT account, digest, received_at FROM unreadable_events ORDER BY id",
        ] {
            all += try await sql.rows(query)
        }
        return all
    }

    @Test(arguments: StoreKind.available)
    func newEventsAreFiledIntoTheirCustomersTickets(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let results = await stores.ingestStore.file(
                [WebhookEvents(account: Self.line, events: [
                    Self.text("e1", from: "U1", "hello"), Self.text("e2", from: "U1", "are you there"), Self.text("e3", from: "U2", name: nil, "hi"),
                ])], now: Self.now)
            #expect(results.count == 1)
            let result = try #require(try results.first?.get())
            #expect(result.stored == 3 && result.duplicates == 0 && result.unreadable == 0)
            let filed = try await stores.sql.rows("""
                SELECT i.platform_user_id, m.text, m.direction, m.status, t.status, c.display_name, m.created_at, m.updated_at
                FROM messages m JOIN identities i ON i.id = m.identity_id JOIN tickets t ON t.id = m.ticket_id JOIN contacts c ON c.id = t.contact_id
                ORDER BY m.id
                """)
            let at = PlainSQL.Value.int(1_699_999_000_000), now = PlainSQL.Value.int(Self.now.ms)
            #expect(filed == [
                [.text("U1"), .text("hello"), .text("in"), .text("received"), .text("new"), .text("Kim"), at, now],
                [.text("U1"), .text("are you there"), .text("in"), .text("received"), .text("new"), .text("Kim"), at, now],
                [.text("U2"), .text("hi"), .text("in"), .text("received"), .text("new"), .null, at, now],
            ])
            // The answer names what was filed: two new tickets (one per customer), three messages,
            // and the profile lookup queued for the customer the platform gave no name for.
            let messages = try await stores.sql.rows("SELECT ticket_id, id FROM messages ORDER BY id")
            let tickets = Array(Set(messages.compactMap { $0[0].int })).sorted()
            #expect(tickets.count == 2)
            #expect(result.events.filter { if case .ticketOpened = $0 { true } else { false } } == tickets.map { .ticketOpened(ticketId: $0) })
            #expect(result.events.filter { if case .messageReceived = $0 { true } else { false } }
                == messages.map { .messageReceived(ticketId: $0[0].int!, messageId: $0[1].int!) })
            #expect(result.events.filter { $0 == .followUpQueued }.count == 1)
            #expect(try await stores.sql.rows("SELECT j.kind, i.platform_user_id FROM jobs j JOIN identities i ON i.id = j.subject_id")
                == [[.text("profile"), .text("U2")]])
            #expect(try await stores.sql.rows("SELECT channel FROM ticket_channels ORDER BY ticket_id") == [[.text("line")], [.text("line")]])
            #expect(try await stores.sql.rows("SELECT account, event_id FROM processed_events ORDER BY event_id")
                == ["e1", "e2", "e3"].map { [.text("line/main"), .text($0)] })
        }
    }

    @Test(arguments: StoreKind.available)
    func aCustomersNextMessageGoesToTheirTicketReopeningIt(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            _ = try await stores.ingestStore.file([WebhookEvents(account: Self.line, events: [Self.text("e1", from: "U1")])], now: Self.now)[0].get()
            let ticket = try await stores.sql.int64("SELECT id FROM tickets")
            try await stores.sql.execute("UPDATE tickets SET status = 'resolved', resolved_at = 5 WHERE id = \(ticket)")
            let later = Date(ms: Self.now.ms + 60_000)
            let result = try await stores.ingestStore.file([WebhookEvents(account: Self.line, events: [Self.text("e2", from: "U1", name: "Kim Lee", "me again")])], now: later)[0].get()
            let message = try await stores.sql.int64("SELECT max(id) FROM messages")
            #expect(result.events == [.ticketStatusChanged(ticketId: ticket, status: .open), .messageReceived(ticketId: ticket, messageId: message)])
            #expect(try await stores.sql.rows("SELECT id, status, resolved_at, updated_at FROM tickets")
                == [[.int(ticket), .text("open"), .null, .int(later.ms)]])
            // The platform's new name reaches the identity and the contact.
            #expect(try await stores.sql.rows("SELECT i.display_name, c.display_name FROM identities i JOIN contacts c ON c.id = i.contact_id")
                == [[.text("Kim Lee"), .text("Kim Lee")]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aReplayedEventIsADuplicateAndChangesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let webhook = WebhookEvents(
                account: Self.line, events: [Self.text("e1", from: "U1"), Self.text("e2", from: "U2", name: nil)],
                unreadable: [UnreadableEvent(reason: "unknown type", raw: #"{"type":"sticker2"}"#)])
            let first = try await stores.ingestStore.file([webhook], now: Self.now)[0].get()
            #expect(first.stored == 2 && first.duplicates == 0 && first.unreadable == 1)
            let before = try await Self.everything(stores.sql)
            // The platform delivers the webhook again, later and with a new name: nothing changes.
            var again = webhook
            again.events[0].sender?.displayName = "Someone Else"
            let replay = try await stores.ingestStore.file([again], now: Date(ms: Self.now.ms + 60_000))[0].get()
            #expect(replay.stored == 0 && replay.duplicates == 2 && replay.unreadable == 0 && replay.events.isEmpty)
            #expect(try await Self.everything(stores.sql) == before)
        }
    }

    @Test(arguments: StoreKind.available)
    func unreadableEventsAreKeptOncePerAccountAndCut(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let odd = UnreadableEvent(reason: "unknown type", raw: #"{"type":"sticker2"}"#)
            let long = UnreadableEvent(reason: String(repeating: "r", count: 600), raw: String(repeating: "a", count: 70_000))
            let results = await stores.ingestStore.file(
                [WebhookEvents(account: Self.line, events: [], unreadable: [odd, long]), WebhookEvents(account: Self.whatsapp, events: [], unreadable: [odd])],
                now: Self.now)
            #expect(try results.map { try $0.get().unreadable } == [2, 1])
            let again = await stores.ingestStore.file([WebhookEvents(account: Self.line, events: [], unreadable: [odd])], now: Self.now)
            #expect(try again.map { try $0.get().unreadable } == [0])
            #expect(try await stores.sql.rows("SELECT account, reason, raw, received_at FROM unreadable_events WHERE raw = '{\"type\":\"sticker2\"}' ORDER BY id")
                == [[.text("line/main"), .text("unknown type"), .text(odd.raw), .int(Self.now.ms)], [.text("whatsapp/main"), .text("unknown type"), .text(odd.raw), .int(Self.now.ms)]])
            // A long one: its reason cut to 500 characters, its text to 64 KiB and marked.
            #expect(try await stores.sql.rows("SELECT length(reason), length(raw), substr(raw, 65537) FROM unreadable_events WHERE raw <> '{\"type\":\"sticker2\"}'")
                == [[.int(500), .int(65_537), .text("…")]])
        }
    }

    @Test(arguments: StoreKind.available)
    func eachWebhookOfAGroupIsAnsweredOnItsOwn(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let results = await stores.ingestStore.file([
                WebhookEvents(account: Self.line, events: [Self.text("e1", from: "U1")]),
                WebhookEvents(account: Self.whatsapp, events: [Self.text("w1", from: "15550001", phone: "15550001")]),
                // The first webhook's event again (a redelivery in the same group), and a new one.
                WebhookEvents(account: Self.line, events: [Self.text("e1", from: "U1"), Self.text("e2", from: "U1")]),
                // The same phone number on SMS is the WhatsApp customer; the same event id on
                // another account is another event.
                WebhookEvents(account: Self.sms, events: [Self.text("e1", from: "15550001", phone: "15550001")]),
            ], now: Self.now)
            #expect(try results.map { let r = try $0.get(); return [r.stored, r.duplicates] } == [[1, 0], [1, 0], [1, 1], [1, 0]])
            #expect(try await stores.sql.rows("""
                SELECT i.account, i.platform_user_id, count(m.id), count(DISTINCT m.ticket_id) FROM identities i JOIN messages m ON m.identity_id = i.id
                GROUP BY i.account, i.platform_user_id ORDER BY i.account
                """) == [
                    [.text("line/main"), .text("U1"), .int(2), .int(1)],
                    [.text("sms/main"), .text("15550001"), .int(1), .int(1)],
                    [.text("whatsapp/main"), .text("15550001"), .int(1), .int(1)],
                ])
            #expect(try await stores.sql.rows("SELECT count(*), count(DISTINCT contact_id) FROM tickets") == [[.int(2), .int(2)]])
            #expect(try await stores.sql.rows("SELECT count(*) FROM contacts") == [[.int(2)]])
            #expect(try await stores.sql.rows("SELECT count(DISTINCT contact_id) FROM identities WHERE phone = '15550001'") == [[.int(1)]])
        }
    }

    /// A customer who writes from another of their identities (the same phone on WhatsApp and
    /// SMS) moves their ticket's replies there: the ticket answers whichever identity wrote last,
    /// and a message from the same identity leaves it as it is.
    @Test(arguments: StoreKind.available)
    func theTicketAnswersTheIdentityTheCustomerLastWroteFrom(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let phone = "15550001"
            for (n, account) in [Self.whatsapp, Self.sms, Self.sms, Self.whatsapp].enumerated() {
                let later = Date(ms: Self.now.ms + Int64(n) * 1_000)
                _ = try await stores.ingestStore.file(
                    [WebhookEvents(account: account, events: [Self.text("e\(n)", from: phone, phone: phone)])], now: later)[0].get()
                #expect(try await stores.sql.rows("""
                    SELECT count(*), max(i.account), max(t.updated_at) FROM tickets t JOIN identities i ON i.id = t.last_identity_id
                    """) == [[.int(1), .text(account.key), .int(later.ms)]])
            }
        }
    }

    /// A group is written with its messages batched (PostgreSQL: the known customers' identities,
    /// contacts and tickets a statement each for the group): it must leave every row, every log
    /// entry in order, and every answer as the same webhooks filed one at a time.
    @Test(arguments: StoreKind.available)
    func aGroupFilesWhatItsWebhooksFiledOneAtATimeWould(_ kind: StoreKind) async throws {
        func text(_ id: String, from user: String, name: String? = "Kim", token: String? = nil, _ text: String) -> InboundEvent {
            var event = Self.text(id, from: user, name: name, text)
            event.message?.replyToken = token
            event.occurredAt = Date(ms: 1_699_999_000_000 + 1_000 * (Int64(id.dropFirst()) ?? 0))
            return event
        }
        let group = [
            WebhookEvents(account: Self.line, events: [text("g1", from: "U1", token: "rt1", "first")]),
            WebhookEvents(account: Self.line, events: [text("g2", from: "U2", "reopens the resolved ticket")]),
            WebhookEvents(account: Self.line, events: [text("g3", from: "U1", name: "Kim Lee", "new name"), text("g4", from: "U3", name: nil, "new customer")]),
            WebhookEvents(account: Self.line, events: [text("g5", from: "U2", token: "rt5", "again"), text("g3", from: "U1", name: "Kim Lee", "new name")]),
            WebhookEvents(account: Self.line, events: [text("g6", from: "U1", name: nil, token: "rt6", "last"), text("g7", from: "U3", name: nil, "second")]),
        ]
        func filed(oneAtATime: Bool) async throws -> (results: [IngestResult], rows: [[PlainSQL.Value]]) {
            var outcome: (results: [IngestResult], rows: [[PlainSQL.Value]]) = ([], [])
            try await Stores.with(kind) { stores throws in
                _ = try await stores.ingestStore.file(
                    [WebhookEvents(account: Self.line, events: [text("s1", from: "U1", "known"), text("s2", from: "U2", token: "rt0", "known too")])],
                    now: Self.now)[0].get()
                try await stores.sql.execute("UPDATE tickets SET status = 'resolved', resolved_at = 5 WHERE id = (SELECT max(id) FROM tickets)")
                let later = Date(ms: Self.now.ms + 60_000)
                if oneAtATime {
                    for webhook in group { outcome.results.append(try await stores.ingestStore.file([webhook], now: later)[0].get()) }
                } else {
                    outcome.results = try await stores.ingestStore.file(group, now: later).map { try $0.get() }
                }
                outcome.rows = try await Self.everything(stores.sql)
                for query in [
                    "SELECT id, reply_token, reply_token_at FROM identities ORDER BY id",
                    "SELECT ticket_id, channel FROM ticket_channels ORDER BY ticket_id, channel",
                    "SELECT id, platform_message_id, created_at FROM messages ORDER BY id",
                    "SELECT seq, type, ticket_id, CAST(data AS TEXT) FROM events ORDER BY seq",
                ] {
                    outcome.rows += try await stores.sql.rows(query)
                }
            }
            return outcome
        }
        let together = try await filed(oneAtATime: false)
        let alone = try await filed(oneAtATime: true)
        #expect(together.results == alone.results)
        #expect(together.rows == alone.rows)
        #expect(together.results.map(\.stored) == [1, 1, 2, 1, 2] && together.results.map(\.duplicates) == [0, 0, 0, 1, 0])
    }

    /// Delivery receipts move sent messages forward only; one for a message whose send is not
    /// recorded yet is kept for later; a watermark moves every earlier message to the customer.
    @Test(arguments: StoreKind.available)
    func receiptsMoveMessagesForwardOnly(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in [
                "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
                "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
                "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1)",
                """
                INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, platform_message_id,
                    idempotency_key, created_at, updated_at)
                VALUES (1, 1, 1, 'out', 'line', 'line/main', '{}', 'one', 'sent', 'p1', 'k1', 10, 10),
                    (2, 1, 1, 'out', 'line', 'line/main', '{}', 'two', 'sent', 'p2', 'k2', 20, 20),
                    (3, 1, 1, 'out', 'line', 'line/main', '{}', 'three', 'sent', 'p3', 'k3', 30, 30)
                """,
            ] {
                try await stores.sql.execute(sql)
            }
            func receipt(_ id: String, _ receipt: DeliveryReceipt, from customer: String? = nil) async throws -> [InboxEvent] {
                let event = InboundEvent(kind: .receipt, eventId: id, occurredAt: Self.now, sender: customer.map { Sender(id: $0) }, receipt: receipt)
                return try await stores.ingestStore.file([WebhookEvents(account: Self.line, events: [event])], now: Self.now)[0].get().events
            }
            #expect(try await receipt("r1", DeliveryReceipt(messageId: "p1", status: .delivered)) == [.messageStatusChanged(messageId: 1, status: .delivered)])
            // A late "sent" does not move it back.
            #expect(try await receipt("r2", DeliveryReceipt(messageId: "p1", status: .sent)) == [])
            #expect(try await receipt("r3", DeliveryReceipt(messageId: "p2", status: .failed, errorCode: "131047", errorMessage: "window closed"))
                == [.messageStatusChanged(messageId: 2, status: .failed)])
            // Not sent yet as far as the bridge knows: kept for when the send is recorded.
            #expect(try await receipt("r4", DeliveryReceipt(messageId: "p9", status: .read)) == [])
            // Read up to 25: the delivered message 1 (the failed one stays failed, 3 is later).
            #expect(try await receipt("r5", DeliveryReceipt(upTo: Date(ms: 25), status: .read), from: "U1") == [.messageStatusChanged(messageId: 1, status: .read)])
            #expect(try await stores.sql.rows("SELECT id, status, failure_code, failure_reason FROM messages ORDER BY id") == [
                [.int(1), .text("read"), .null, .null], [.int(2), .text("failed"), .text("131047"), .text("window closed")], [.int(3), .text("sent"), .null, .null],
            ])
            #expect(try await stores.sql.rows("SELECT account, platform_message_id, status FROM pending_receipts")
                == [[.text("line/main"), .text("p9"), .text("read")]])
        }
    }

    /// A webhook of a group that cannot be stored (here a trigger refuses its message) fails alone
    /// and leaves nothing, not even its dedupe row, so the platform's redelivery is stored once the
    /// cause is gone; the group's other webhooks are stored.
    @Test(arguments: StoreKind.available)
    func aWebhookThatCannotBeStoredFailsAloneAndLeavesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            switch kind {
            case .sqlite:
                try await stores.sql.execute("CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END")
            case .postgres:
                try await stores.sql.execute("""
                    CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$
                    """)
                try await stores.sql.execute("CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()")
            }
            let group = ["first", "poison", "third"].enumerated().map { i, text in
                WebhookEvents(account: Self.line, events: [Self.text("b\(i)", from: "U\(i)", text)])
            }
            let results = await stores.ingestStore.file(group, now: Self.now)
            #expect(results.map { (try? $0.get())?.stored } == [1, nil, 1])
            #expect(try await stores.sql.rows("SELECT text FROM messages ORDER BY id") == [[.text("first")], [.text("third")]])
            #expect(try await stores.sql.rows("SELECT event_id FROM processed_events ORDER BY event_id") == [[.text("b0")], [.text("b2")]])
            #expect(try await stores.sql.rows("SELECT platform_user_id FROM identities ORDER BY platform_user_id") == [[.text("U0")], [.text("U2")]])
            try await stores.sql.execute(kind == .sqlite ? "DROP TRIGGER poison" : "DROP TRIGGER poison ON messages")
            #expect(try await stores.ingestStore.file([group[1]], now: Self.now)[0].get().stored == 1)
        }
    }

    /// Two bridge processes (on SQLite one process: its store twice), four writers each, file the
    /// same 40 events (8 LINE customers without a name, 2 phone numbers on WhatsApp and SMS) in groups, each writer
    /// in its own order: every event is stored once and found a duplicate by the other seven, and
    /// each customer has one contact, one identity per account and one open ticket.
    @Test(arguments: StoreKind.available)
    func theSameEventsFiledByTwoProcessesAtOnceAreStoredOnce(_ kind: StoreKind) async throws {
        var webhooks: [WebhookEvents] = []
        for n in 0..<8 {
            for k in 0..<4 { webhooks.append(WebhookEvents(account: Self.line, events: [Self.text("l\(n)-\(k)", from: "U\(n)", name: nil)])) }
        }
        for n in 0..<2 {
            let phone = "1555000\(n)"
            for k in 0..<2 {
                webhooks.append(WebhookEvents(account: Self.whatsapp, events: [Self.text("w\(n)-\(k)", from: phone, phone: phone)]))
                webhooks.append(WebhookEvents(account: Self.sms, events: [Self.text("s\(n)-\(k)", from: phone, phone: phone)]))
            }
        }
        try await Self.processes(kind) { processes throws in
            let writers = processes.flatMap { [$0.ingestStore, $0.ingestStore, $0.ingestStore, $0.ingestStore] }
            let results = await withTaskGroup(of: [Result<IngestResult, any Error>].self) { group in
                for (w, store) in writers.enumerated() {
                    // Each writer starts at another place and goes the other way every second time.
                    let start = (w * 7) % webhooks.count
                    var order: [WebhookEvents] = Array(webhooks[start...])
                    order += webhooks[..<start]
                    if w % 2 == 1 { order.reverse() }
                    group.addTask {
                        var results: [Result<IngestResult, any Error>] = []
                        for start in stride(from: 0, to: order.count, by: 4) {
                            results += await store.file(Array(order[start..<min(start + 4, order.count)]), now: Self.now)
                        }
                        return results
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            let answers = try results.map { try $0.get() }
            #expect(answers.map(\.stored).reduce(0, +) == 40)
            #expect(answers.map(\.duplicates).reduce(0, +) == 40 * 7)
            let sql = processes[0].sql
            #expect(try await sql.rows("SELECT count(*) FROM messages") == [[.int(40)]])
            #expect(try await sql.rows("SELECT count(*), count(DISTINCT event_id) FROM processed_events") == [[.int(40), .int(40)]])
            #expect(try await sql.rows("SELECT count(*) FROM contacts") == [[.int(10)]])
            #expect(try await sql.rows("SELECT count(*), count(DISTINCT contact_id) FROM identities") == [[.int(12), .int(10)]])
            #expect(try await sql.rows("SELECT count(*), count(DISTINCT contact_id) FROM tickets WHERE status <> 'closed'") == [[.int(10), .int(10)]])
            // Every message is on its customer's one ticket, and each new customer's profile is looked up once.
            #expect(try await sql.rows("SELECT count(*) FROM messages m JOIN identities i ON i.id = m.identity_id JOIN tickets t ON t.id = m.ticket_id WHERE t.contact_id <> i.contact_id") == [[.int(0)]])
            #expect(try await sql.rows("SELECT count(*) FROM jobs WHERE kind = 'profile'") == [[.int(8)]])
        }
    }

    /// Ten customers, each on WhatsApp and SMS with one phone number, whose tickets were closed
    /// write again, and each one's new messages reach two processes (four writers each, half of
    /// them on each channel) at once: one new ticket per customer, not one per writer. (Messages
    /// through one identity would wait for each other on its row; through two they meet only
    /// where the ticket is found or created.)
    @Test(arguments: StoreKind.available)
    func aReturningCustomersMessagesFiledByTwoProcessesAtOnceOpenOneTicket(_ kind: StoreKind) async throws {
        try await Self.processes(kind) { processes throws in
            let customers = 0..<10
            let accounts = [Self.whatsapp, Self.sms]
            let first = await processes[0].ingestStore.file(
                customers.flatMap { n in accounts.map { WebhookEvents(account: $0, events: [Self.text("first-\(n)", from: "1555000\(n)", phone: "1555000\(n)")]) } },
                now: Self.now)
            #expect(try first.map { try $0.get().stored } == first.map { _ in 1 })
            #expect(try await processes[0].sql.rows("SELECT count(*) FROM contacts") == [[.int(10)]])
            try await processes[0].sql.execute("UPDATE tickets SET status = 'closed'")
            let writers = processes.flatMap { [$0.ingestStore, $0.ingestStore, $0.ingestStore, $0.ingestStore] }
            for n in customers {
                let results = await withTaskGroup(of: [Result<IngestResult, any Error>].self) { group in
                    for (w, store) in writers.enumerated() {
                        let webhook = WebhookEvents(account: accounts[w % 2], events: [Self.text("again-\(n)-\(w)", from: "1555000\(n)", phone: "1555000\(n)")])
                        group.addTask { await store.file([webhook], now: Self.now) }
                    }
                    return await group.reduce(into: []) { $0 += $1 }
                }
                #expect(try results.map { try $0.get().stored } == writers.map { _ in 1 })
            }
            #expect(try await processes[0].sql.rows("SELECT count(*), count(DISTINCT contact_id) FROM tickets WHERE status <> 'closed'") == [[.int(10), .int(10)]])
            #expect(try await processes[0].sql.rows("SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.status <> 'closed'") == [[.int(80)]])
        }
    }

    /// Ten new customers' first messages, each customer's on WhatsApp and SMS from one phone
    /// number, reach two processes (four writers each, half of them on each channel) at once:
    /// one contact per phone number, with its two identities and one ticket.
    @Test(arguments: StoreKind.available)
    func aNewCustomersFirstMessagesOnTwoChannelsFiledAtOnceMakeOneContact(_ kind: StoreKind) async throws {
        try await Self.processes(kind) { processes throws in
            let accounts = [Self.whatsapp, Self.sms]
            let writers = processes.flatMap { [$0.ingestStore, $0.ingestStore, $0.ingestStore, $0.ingestStore] }
            for n in 0..<10 {
                let results = await withTaskGroup(of: [Result<IngestResult, any Error>].self) { group in
                    for (w, store) in writers.enumerated() {
                        let webhook = WebhookEvents(account: accounts[w % 2], events: [Self.text("new-\(n)-\(w)", from: "1666000\(n)", phone: "1666000\(n)")])
                        group.addTask { await store.file([webhook], now: Self.now) }
                    }
                    return await group.reduce(into: []) { $0 += $1 }
                }
                #expect(try results.map { try $0.get().stored } == writers.map { _ in 1 })
            }
            #expect(try await processes[0].sql.rows("SELECT count(*) FROM contacts") == [[.int(10)]])
            #expect(try await processes[0].sql.rows("SELECT count(*), count(DISTINCT contact_id) FROM identities") == [[.int(20), .int(10)]])
            #expect(try await processes[0].sql.rows("SELECT count(*), count(DISTINCT contact_id) FROM tickets") == [[.int(10), .int(10)]])
        }
    }

    /// Two processes on PostgreSQL; on SQLite the one process's stores twice.
    static func processes(_ kind: StoreKind, _ body: ([Stores]) async throws -> Void) async throws {
        switch kind {
        case .sqlite: try await Stores.with(.sqlite) { try await body([$0, $0]) }
        case .postgres: try await Stores.withPostgresProcesses(2, body)
        }
    }
}
