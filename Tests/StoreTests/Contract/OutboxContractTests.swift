import ChannelKit
import Foundation
import PostgresNIO
import PostgresStore
import Testing
import UniversalInbox

/// `seconds` after the contract tests' moment zero.
private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

/// `OutboxStore` as every implementation must keep it: a queued reply is a message and an outbox
/// row written together (or nothing, when refused); each ticket's replies are claimed in queue
/// order, one in flight at a time, also while a retry waits; a send is recorded even after its
/// lease was lost and applies receipts that came first; a failure ends the job and can be queued
/// again. Times are given, never waited for.
@Suite struct OutboxContractTests {
    /// Kim (LINE, with a reply token, and WhatsApp) has ticket 1, assigned to agent 7; Lee (LINE)
    /// has ticket 2 (new) and ticket 3 (closed).
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, last_inbound_at, reply_token, reply_token_at, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 1000, 'tok', 1000, 1), (2, 1, 'whatsapp/main', 'whatsapp', '15550001', 500, NULL, NULL, 1),
            (3, 2, 'line/main', 'line', 'U2', NULL, NULL, NULL, 1)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, created_at, updated_at)
        VALUES (1, 1, 'open', 1, 7, 1, 1), (2, 2, 'new', 3, NULL, 1, 1), (3, 2, 'closed', 3, NULL, 1, 1)
        """,
    ]

    static let allow: TicketCheck = { _, _ in }
    static let anyTarget: @Sendable (ReplyTarget) -> SendError? = { _ in nil }

    static func queue(_ outbox: any OutboxStore, _ ticketId: Int64, _ text: String, at now: Date = at(0), channel: String? = nil) async throws -> Int64 {
        try await outbox.queueReply(NewReply(ticketId: ticketId, content: .text(text), channel: channel, now: now), check: allow, vet: anyTarget)
    }

    @Test(arguments: StoreKind.available)
    func eachTicketsRepliesLeaveInQueueOrderOneAtATime(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let outbox = stores.outbox
            try await stores.sql.execute("""
                INSERT INTO drafts (ticket_id, agent_id, mode, text, channel, updated_at) VALUES (1, 7, 'reply', 'Hi', NULL, 1), (2, 7, 'note', 'Psst', NULL, 1)
                """)
            let a1 = try await outbox.queueReply(
                NewReply(ticketId: 1, content: .text("first"), author: "agent:7", draftOf: 7, now: at(0)), check: Self.allow, vet: Self.anyTarget)
            let b1 = try await Self.queue(outbox, 2, "other ticket")
            let a2 = try await Self.queue(outbox, 1, "second")
            #expect(try await outbox.depth() == 3)
            // The sender's reply draft is used up (not another ticket's note); a new ticket is opened.
            #expect(try await stores.sql.rows("SELECT ticket_id, mode FROM drafts") == [[.int(2), .text("note")]])
            #expect(try await stores.sql.rows("SELECT status FROM tickets WHERE id = 2") == [[.text("open")]])
            #expect(try await stores.sql.rows("SELECT status, author, text FROM messages WHERE id = \(a1)") == [[.text("queued"), .text("agent:7"), .text("first")]])

            let first = try await outbox.claim(limit: 10, lease: 60, now: at(0))
            #expect(first.map(\.messageId) == [a1, b1])
            #expect(try await outbox.claim(limit: 10, lease: 60, now: at(1)).isEmpty)
            let record = try await outbox.markSent(first[0], receipt: SendReceipt(platformMessageId: "p1"), at: at(1))
            #expect(record == SentRecord(events: [.messageStatusChanged(messageId: a1, status: .sent)], leaseLost: nil))
            #expect(try await stores.sql.rows("SELECT status, platform_message_id FROM messages WHERE id = \(a1)") == [[.text("sent"), .text("p1")]])
            #expect(try await outbox.claim(limit: 10, lease: 60, now: at(1)).map(\.messageId) == [a2])
            #expect(try await outbox.depth() == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func aRetryHoldsItsTicketUntilItFailsAndAFailedReplyCanBeQueuedAgain(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let outbox = stores.outbox
            let a1 = try await Self.queue(outbox, 1, "first")
            let a2 = try await Self.queue(outbox, 1, "second")
            let attempt = try #require(try await outbox.claim(limit: 10, lease: 60, now: at(0)).first)
            #expect(attempt.messageId == a1 && attempt.attempts == 0)
            try await outbox.reschedule(attempt, at: at(30), error: .retryable("http_500", "boom"))
            // The backoff: nothing of ticket 1 before the retry is due, the second reply included.
            #expect(try await outbox.claim(limit: 10, lease: 60, now: at(29.999)).isEmpty)
            let retry = try #require(try await outbox.claim(limit: 10, lease: 60, now: at(30)).first)
            #expect(retry.messageId == a1 && retry.attempts == 1)
            #expect(retry.message.id == attempt.message.id)
            try await outbox.markFailed(retry, error: .permanent("http_401", "bad token"), at: at(31))
            #expect(try await stores.sql.rows("SELECT status, failure_code, failure_reason FROM messages WHERE id = \(a1)")
                == [[.text("failed"), .text("http_401"), .text("bad token")]])
            let second = try #require(try await outbox.claim(limit: 10, lease: 60, now: at(31)).first)
            #expect(second.messageId == a2)

            await #expect(throws: InboxError.notFailed(a2)) {
                try await outbox.requeueFailed(messageId: a2, at: at(32), check: Self.allow, vet: Self.anyTarget)
            }
            #expect(try await outbox.requeueFailed(messageId: a1, at: at(32), check: Self.allow, vet: Self.anyTarget) == 1)
            #expect(try await stores.sql.rows("SELECT status, failure_code FROM messages WHERE id = \(a1)") == [[.text("queued"), .null]])
            // Queued again behind the reply in flight, with its idempotency key kept.
            #expect(try await outbox.claim(limit: 10, lease: 60, now: at(32)).isEmpty)
            _ = try await outbox.markSent(second, receipt: SendReceipt(platformMessageId: "p2"), at: at(33))
            let again = try #require(try await outbox.claim(limit: 10, lease: 60, now: at(33)).first)
            #expect(again.messageId == a1 && again.attempts == 0 && again.message.id == attempt.message.id)
        }
    }

    @Test(arguments: StoreKind.available)
    func aRefusedReplyWritesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let outbox = stores.outbox
            let reply = { (ticketId: Int64) in NewReply(ticketId: ticketId, content: .text("hello"), now: at(0)) }
            await #expect(throws: InboxError.notFound("ticket 99")) { try await outbox.queueReply(reply(99), check: Self.allow, vet: Self.anyTarget) }
            await #expect(throws: InboxError.ticketClosed(3)) { try await outbox.queueReply(reply(3), check: Self.allow, vet: Self.anyTarget) }
            let forbidden = InboxError.forbidden(code: "not_assigned_to_you", message: "no")
            // The check sees the ticket's place.
            await #expect(throws: forbidden) {
                try await outbox.queueReply(reply(1), check: { id, places in
                    if id == 1, places == [TicketPlace(agentId: 7, departmentId: nil)] { throw forbidden }
                }, vet: Self.anyTarget)
            }
            let closed = SendError.permanent("outside_window", "the window closed")
            await #expect(throws: InboxError.refused(closed)) {
                try await outbox.queueReply(reply(1), check: Self.allow, vet: { $0.account == "line/main" && $0.message.recipient == "U1" ? closed : nil })
            }
            await #expect(throws: InboxError.noReplyChannel(ticketId: 2, channel: "whatsapp")) {
                try await outbox.queueReply(
                    NewReply(ticketId: 2, content: .text("hello"), channel: "whatsapp", now: at(0)), check: Self.allow, vet: Self.anyTarget)
            }
            #expect(try await stores.sql.rows("SELECT count(*) FROM messages") == [[.int(0)]])
            #expect(try await outbox.depth() == 0)
            // Two agents answering at once: the one who had not seen the other's reply is told.
            let seen = try await Self.queue(outbox, 1, "first")
            await #expect(throws: InboxError.ticketChanged(1, version: seen - 1)) {
                try await outbox.queueReply(
                    NewReply(ticketId: 1, content: .text("late"), expectedVersion: seen - 1, now: at(0)), check: Self.allow, vet: Self.anyTarget)
            }
            _ = try await outbox.queueReply(
                NewReply(ticketId: 1, content: .text("in time"), expectedVersion: seen, now: at(0)), check: Self.allow, vet: Self.anyTarget)
            #expect(try await outbox.depth() == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func aClaimHandsOutTheIdentitysReplyTokenOnce(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let outbox = stores.outbox
            _ = try await Self.queue(outbox, 1, "on line")
            let job = try #require(try await outbox.claim(limit: 10, lease: 60, now: at(0)).first)
            #expect(job.account == "line/main" && job.message.recipient == "U1")
            #expect(job.message.context.replyToken == "tok" && job.message.context.lastInboundAt == Date(ms: 1000))
            #expect(try await stores.sql.rows("SELECT reply_token, reply_token_at FROM identities WHERE id = 1") == [[.null, .null]])
            _ = try await outbox.markSent(job, receipt: SendReceipt(platformMessageId: "p1", usedReplyToken: true), at: at(1))
            // The agent picks WhatsApp: Kim's WhatsApp identity.
            _ = try await Self.queue(outbox, 1, "on whatsapp", channel: "whatsapp")
            let next = try #require(try await outbox.claim(limit: 10, lease: 60, now: at(1)).first)
            #expect(next.account == "whatsapp/main" && next.message.recipient == "15550001" && next.message.context.replyToken == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aSendIsRecordedAfterItsLeaseWasLostAndAppliesReceiptsThatCameFirst(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let outbox = stores.outbox
            let id = try await Self.queue(outbox, 1, "hello")
            try await stores.sql.execute("""
                INSERT INTO pending_receipts (account, platform_message_id, status, received_at) VALUES ('line/main', 'p1', 'delivered', 1)
                """)
            let stale = try #require(try await outbox.claim(limit: 1, lease: 30, now: at(0)).first)
            let current = try #require(try await outbox.claim(limit: 1, lease: 30, now: at(30)).first)
            let record = try await outbox.markSent(stale, receipt: SendReceipt(platformMessageId: "p1"), at: at(31))
            #expect(record.leaseLost == LeaseLost(table: "outbox", id: stale.id))
            #expect(record.events == [.messageStatusChanged(messageId: id, status: .sent), .messageStatusChanged(messageId: id, status: .delivered)])
            #expect(try await stores.sql.rows("SELECT status FROM messages WHERE id = \(id)") == [[.text("delivered")]])
            #expect(try await stores.sql.rows("SELECT count(*) FROM pending_receipts") == [[.int(0)]])
            // The row is the new holder's: the stale one can neither fail nor retry it.
            await #expect(throws: LeaseLost(table: "outbox", id: stale.id)) {
                try await outbox.markFailed(stale, error: .permanent("http_400", "no"), at: at(31))
            }
            await #expect(throws: LeaseLost(table: "outbox", id: stale.id)) {
                try await outbox.reschedule(stale, at: at(40), error: .retryable("http_500", "boom"))
            }
            #expect(try await stores.sql.rows("SELECT status FROM messages WHERE id = \(id)") == [[.text("delivered")]])
            #expect(try await outbox.depth() == 1)
            #expect(try await outbox.markSent(current, receipt: SendReceipt(platformMessageId: "p1"), at: at(32)).leaseLost == nil)
            #expect(try await outbox.depth() == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func theReplyChannelsAreTheContactsIdentities(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            #expect(try await stores.outbox.replyChannels(ticketId: 1) == [
                ReplyChannel(channel: "line", account: "line/main", lastInboundAt: Date(ms: 1000)),
                ReplyChannel(channel: "whatsapp", account: "whatsapp/main", lastInboundAt: Date(ms: 500)),
            ])
            #expect(try await stores.outbox.replyChannels(ticketId: 2) == [ReplyChannel(channel: "line", account: "line/main", lastInboundAt: nil)])
            #expect(try await stores.outbox.replyChannels(ticketId: 99) == [])
        }
    }

    // MARK: - Several processes (PostgreSQL)

    /// Two bridge processes each queue replies on the same three tickets and claim and send,
    /// concurrently: no reply is claimed twice, a ticket never has two in flight, and each ticket's
    /// replies are claimed in the order they were queued (message id order, which is commit order).
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesQueueingAndClaimingKeepEachTicketInOrderOneInFlight() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            for sql in Self.fixture { try await processes[0].sql.execute(sql) }
            try await processes[0].sql.execute("UPDATE tickets SET status = 'open' WHERE id = 3")
            let tickets: [Int64] = [1, 2, 3], perProcessAndTicket = 15
            let total = processes.count * tickets.count * perProcessAndTicket
            let flight = Flight()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, process) in processes.enumerated() {
                    group.addTask {
                        for round in 0..<perProcessAndTicket {
                            for ticket in tickets {
                                let id = try await Self.queue(process.outbox, ticket, "p\(index) r\(round)")
                                await flight.queued(id, ticket: ticket)
                            }
                        }
                    }
                    for _ in 0..<2 {
                        group.addTask {
                            var idle = 0
                            while await flight.sentCount < total {
                                let jobs = try await process.outbox.claim(limit: 2, lease: 600, now: at(0))
                                idle = jobs.isEmpty ? idle + 1 : 0
                                if idle > 20_000 {
                                    Issue.record("nothing to claim for a long time, with replies still unsent")
                                    return
                                }
                                // All in flight at once, each until just before its send is recorded (the next
                                // reply of its ticket can only be claimed after that).
                                for job in jobs { await flight.claimed(job) }
                                for job in jobs {
                                    await flight.landed(job)
                                    _ = try await process.outbox.markSent(job, receipt: SendReceipt(platformMessageId: "m\(job.messageId)"), at: at(1))
                                    await flight.sent()
                                }
                                if jobs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let result = await flight.result
            #expect(result.twiceClaimed.isEmpty)
            #expect(result.twoInFlight.isEmpty)
            for ticket in tickets {
                let claimed = result.claimedOrder[ticket] ?? []
                #expect(claimed.count == processes.count * perProcessAndTicket)
                #expect(claimed == result.queued[ticket]?.sorted(), "ticket \(ticket)")
            }
            #expect(try await processes[1].outbox.depth() == 0)
        }
    }

    /// Queueing on PostgreSQL locks the ticket's row before it takes a message or outbox id: while
    /// another transaction holds the ticket, a queuer waits without having taken either (so a
    /// ticket's ids are committed in the order they were taken).
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func queueingLocksTheTicketBeforeTakingIds() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            for sql in Self.fixture { try await processes[0].sql.execute(sql) }
            _ = try await Self.queue(processes[0].outbox, 1, "first")
            let lastIds = "SELECT pg_sequence_last_value(pg_get_serial_sequence('messages', 'id')), pg_sequence_last_value(pg_get_serial_sequence('outbox', 'id'))"
            let before = try await processes[0].sql.rows(lastIds)
            guard case .postgres(let client) = processes[1].sql else { return }
            let queuer = try await client.withTransaction(logger: TestServer.logger) { connection in
                try await connection.query("SELECT id FROM tickets WHERE id = 1 FOR UPDATE", logger: TestServer.logger)
                let queuer = Task { try await Self.queue(processes[0].outbox, 1, "second") }
                // Wait until the queuer waits on a lock, unless it finishes first (it did not lock).
                var waiting = false
                for _ in 0..<100_000 where !waiting {
                    waiting = try await processes[0].sql.int64("""
                        SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                        """) > 0
                    if !waiting { try await Task.sleep(for: .milliseconds(5)) }
                }
                #expect(waiting)
                #expect(try await processes[0].sql.rows(lastIds) == before, "ids were taken before the ticket was locked")
                return queuer
            }
            // The lock released, the reply is queued.
            _ = try await queuer.value
            #expect(try await processes[1].outbox.depth() == 2)
        }
    }
}

/// What the two-process test saw: who was claimed when, and what broke the rules.
private actor Flight {
    var queued: [Int64: [Int64]] = [:]
    var claimedOrder: [Int64: [Int64]] = [:]
    var inFlight: Set<Int64> = []
    var everClaimed: Set<Int64> = []
    var twiceClaimed: [Int64] = []
    var twoInFlight: [Int64] = []
    var sentCount = 0

    func queued(_ id: Int64, ticket: Int64) { queued[ticket, default: []].append(id) }

    func claimed(_ job: OutboundJob) {
        if !everClaimed.insert(job.messageId).inserted { twiceClaimed.append(job.messageId) }
        if !inFlight.insert(job.ticketId).inserted { twoInFlight.append(job.ticketId) }
        claimedOrder[job.ticketId, default: []].append(job.messageId)
    }

    func landed(_ job: OutboundJob) { inFlight.remove(job.ticketId) }
    func sent() { sentCount += 1 }

    var result: (queued: [Int64: [Int64]], claimedOrder: [Int64: [Int64]], twiceClaimed: [Int64], twoInFlight: [Int64]) {
        (queued, claimedOrder, twiceClaimed, twoInFlight)
    }
}
