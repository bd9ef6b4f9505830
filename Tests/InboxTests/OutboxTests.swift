import ChannelKit
import Foundation
import GRDB
import TestSupport
import Testing
import UniversalInbox

@Suite struct OutboxTests {
    func ticketWithCustomer(_ inbox: Inbox, replyToken: String? = nil) async throws -> Int64 {
        _ = try await inbox.ingest([textEvent("e1", replyToken: replyToken)], from: lineMain)
        return try await inbox.listTickets(TicketQuery()).items[0].id
    }

    @Test func replyIsQueuedWithItsJob() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        let message = try await reply(inbox, ticket: ticket, "On its way")
        #expect(message.status == "queued")
        #expect(message.direction == .outbound)
        #expect(message.channel == "line")
        #expect(try await inbox.outboxDepth() == 1)
        #expect(try await inbox.ticket(id: ticket)?.status == .open)
        let jobs = try await inbox.claimOutbound(limit: 10, lease: 60)
        #expect(jobs.count == 1)
        #expect(jobs[0].message.recipient == "U1")
        #expect(jobs[0].message.content == .text("On its way"))
        #expect(jobs[0].message.context.lastInboundAt == Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func refusedReplyWritesNothing() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        let refusal = SendError.permanent("outside_window", "use a template")
        await #expect(throws: InboxError.refused(refusal)) {
            _ = try await inbox.queueReply(ticketId: ticket, content: .text("late")) { _ in refusal }
        }
        #expect(try await inbox.outboxDepth() == 0)
        #expect(try await inbox.messages(ticketId: ticket)?.count == 1)
    }

    @Test func replyToMissingOrClosedTicketIsRefused() async throws {
        let inbox = try makeInbox()
        await #expect(throws: InboxError.notFound("ticket 99")) { _ = try await reply(inbox, ticket: 99, "x") }
        let ticket = try await ticketWithCustomer(inbox)
        _ = try await inbox.setStatus(ticketId: ticket, to: .closed)
        await #expect(throws: InboxError.self) { _ = try await reply(inbox, ticket: ticket, "x") }
        #expect(try await inbox.outboxDepth() == 0)
    }

    @Test func oneMessagePerTicketInFlightKeepsOrder() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        let first = try await reply(inbox, ticket: ticket, "one")
        let second = try await reply(inbox, ticket: ticket, "two")
        let batch = try await inbox.claimOutbound(limit: 10, lease: 60)
        #expect(batch.map(\.messageId) == [first.id])
        // While the first is in flight or waiting to retry, the second waits.
        try await inbox.retryOutbound(batch[0], at: Date().addingTimeInterval(3600), error: .retryable("http_500", "boom"))
        #expect(try await inbox.claimOutbound(limit: 10, lease: 60).isEmpty)
        try await inbox.database.pool.write { try $0.execute(sql: "UPDATE outbox SET next_attempt_at = 0") }
        let retried = try await inbox.claimOutbound(limit: 10, lease: 60)
        #expect(retried.map(\.messageId) == [first.id])
        #expect(retried[0].attempts == 1)
        try await inbox.outboundSent(retried[0], receipt: SendReceipt(platformMessageId: "p1"))
        #expect(try await inbox.claimOutbound(limit: 10, lease: 60).map(\.messageId) == [second.id])
    }

    /// A send about to go out after a long wait (its account's rate limit) renews its lease first,
    /// so no second worker can claim it meanwhile; a worker whose message was claimed by another
    /// is told so before it sends. A send well inside its lease writes nothing.
    @Test func aSendHoldsItsLeaseBeforeGoingOut() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        _ = try await reply(inbox, ticket: try await ticketWithCustomer(inbox), "On its way")
        let job = try #require(try await inbox.claimOutbound(limit: 1, lease: 10).first)
        clock.advance(by: 4)
        #expect(try await inbox.holdOutbound(job, lease: 10) == job)
        clock.advance(by: 3)  // 3 s of 10 left: renewed
        let held = try await inbox.holdOutbound(job, lease: 10)
        #expect(held.lease.until == clock.now.ms + 10_000)
        clock.advance(by: 8)  // past the first lease, inside the renewed one
        #expect(try await inbox.claimOutbound(limit: 1, lease: 10).isEmpty)
        clock.advance(by: 10)  // both ran out: another worker claims it
        let other = try #require(try await inbox.claimOutbound(limit: 1, lease: 10).first)
        await #expect(throws: LeaseLost(table: "outbox", id: job.id)) { _ = try await inbox.holdOutbound(held, lease: 10) }
        try await inbox.outboundSent(other, receipt: SendReceipt(platformMessageId: "p1"))
    }

    @Test func replyTokenIsHandedOutOnce() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox, replyToken: "rt-1")
        _ = try await reply(inbox, ticket: ticket, "one")
        let first = try await inbox.claimOutbound(limit: 10, lease: 60)
        #expect(first[0].message.context.replyToken == "rt-1")
        try await inbox.outboundSent(first[0], receipt: SendReceipt(platformMessageId: "p1", usedReplyToken: true))
        _ = try await reply(inbox, ticket: ticket, "two")
        let second = try await inbox.claimOutbound(limit: 10, lease: 60)
        #expect(second[0].message.context.replyToken == nil)
    }

    @Test func permanentFailureKeepsTheReason() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        let message = try await reply(inbox, ticket: ticket, "x")
        let job = try await inbox.claimOutbound(limit: 1, lease: 60)[0]
        try await inbox.outboundFailed(job, error: .permanent("http_401", "bad token"))
        let stored = try #require(try await inbox.message(id: message.id))
        #expect(stored.status == "failed")
        #expect(stored.failureCode == "http_401")
        #expect(stored.failureReason == "bad token")
        #expect(try await inbox.outboxDepth() == 0)
    }

    @Test func receiptsOnlyMoveForward() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        let message = try await reply(inbox, ticket: ticket, "x")
        let job = try await inbox.claimOutbound(limit: 1, lease: 60)[0]
        try await inbox.outboundSent(job, receipt: SendReceipt(platformMessageId: "wamid.1"))
        _ = try await inbox.ingest([receiptEvent("wamid.1", .read)], from: lineMain)
        _ = try await inbox.ingest([receiptEvent("wamid.1", .delivered)], from: lineMain)
        #expect(try await inbox.message(id: message.id)?.status == "read")
    }

    @Test func earlyReceiptIsAppliedWhenTheSendIsRecorded() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        let message = try await reply(inbox, ticket: ticket, "x")
        let job = try await inbox.claimOutbound(limit: 1, lease: 60)[0]
        // The platform's status webhook beats our own bookkeeping.
        _ = try await inbox.ingest([receiptEvent("wamid.early", .delivered)], from: lineMain)
        try await inbox.outboundSent(job, receipt: SendReceipt(platformMessageId: "wamid.early"))
        #expect(try await inbox.message(id: message.id)?.status == "delivered")
        let pending = try await inbox.database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pending_receipts") }
        #expect(pending == 0)
    }

    @Test func expiredLeasesAreClaimedAgain() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        let ticket = try await ticketWithCustomer(inbox)
        _ = try await reply(inbox, ticket: ticket, "x")
        #expect(try await inbox.claimOutbound(limit: 1, lease: 600).count == 1)
        #expect(try await inbox.claimOutbound(limit: 1, lease: 600).isEmpty)
        // A process that stopped mid-send: its lease runs out and the job is claimed again.
        clock.advance(by: 600)
        #expect(try await inbox.claimOutbound(limit: 1, lease: 600).count == 1)
    }
    /// A dispatcher whose lease ran out while another took the job over: its send is recorded (it
    /// happened), but it neither retries, fails nor removes the job, which is the new holder's.
    @Test func aStaleDispatcherLeavesTheJobToItsNewHolder() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        let ticket = try await ticketWithCustomer(inbox)
        let message = try await reply(inbox, ticket: ticket, "x")
        let stale = try #require(try await inbox.claimOutbound(limit: 1, lease: 60).first)
        clock.advance(by: 60)
        let current = try #require(try await inbox.claimOutbound(limit: 1, lease: 60).first)
        await #expect(throws: LeaseLost(table: "outbox", id: stale.id)) {
            try await inbox.retryOutbound(stale, at: clock.now, error: .retryable("http_500", "boom"))
        }
        await #expect(throws: LeaseLost.self) { try await inbox.outboundFailed(stale, error: .permanent("http_400", "no")) }
        #expect(try await inbox.message(id: message.id)?.status == "queued")
        await #expect(throws: LeaseLost.self) { try await inbox.outboundSent(stale, receipt: SendReceipt(platformMessageId: "p1")) }
        #expect(try await inbox.message(id: message.id)?.status == "sent")
        #expect(try await inbox.outboxDepth() == 1)
        try await inbox.outboundSent(current, receipt: SendReceipt(platformMessageId: "p1"))
        #expect(try await inbox.outboxDepth() == 0)
    }
}

@Suite struct WatermarkReceiptTests {
    @Test func readWatermarkMovesEarlierSentMessages() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        let messenger = ChannelAccountRef(kind: .messenger, id: "main")
        _ = try await inbox.ingest([textEvent("e1", from: "PSID1")], from: messenger)
        let ticket = try await inbox.listTickets(TicketQuery()).items[0].id
        var ids: [Int64] = []
        for text in ["one", "two"] {
            clock.advance(by: 10)
            ids.append(try await reply(inbox, ticket: ticket, text).id)
            let job = try await inbox.claimOutbound(limit: 1, lease: 60)[0]
            try await inbox.outboundSent(job, receipt: SendReceipt(platformMessageId: "m_\(text)"))
        }
        // Read up to just after the first reply: only the first is read.
        let watermark = clock.now.addingTimeInterval(-5)
        _ = try await inbox.ingest([InboundEvent(
            kind: .receipt, eventId: "read:PSID1:1", occurredAt: watermark, sender: Sender(id: "PSID1"),
            receipt: DeliveryReceipt(upTo: watermark, status: .read))], from: messenger)
        #expect(try await inbox.message(id: ids[0])?.status == "read")
        #expect(try await inbox.message(id: ids[1])?.status == "sent")
        // Another customer's watermark touches nothing of this one.
        _ = try await inbox.ingest([InboundEvent(
            kind: .receipt, eventId: "read:PSID2:1", occurredAt: clock.now, sender: Sender(id: "PSID2"),
            receipt: DeliveryReceipt(upTo: clock.now, status: .read))], from: messenger)
        #expect(try await inbox.message(id: ids[1])?.status == "sent")
    }
}
