import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// The bridge's own messages as every implementation must write them: an automatic reply
/// (`OutboxStore.sendAutomaticReply`) and a rating request (`SatisfactionStore.requestRating`) go
/// out at most once per ticket (and kind), with their record in the same transaction, or record the
/// channel's refusal instead; two processes sending at once send one.
@Suite struct AutomaticReplyContractTests {
    static let allow: @Sendable (ReplyTarget) -> SendError? = { _ in nil }
    static let closed = SendError.permanent("outside_window", "the window closed")
    static let refuse: @Sendable (ReplyTarget) -> SendError? = { _ in closed }

    static func history(_ stores: Stores, _ ticketId: Int64) async throws -> [[PlainSQL.Value]] {
        try await stores.sql.rows("SELECT kind, actor, detail FROM ticket_events WHERE ticket_id = \(ticketId) ORDER BY id")
    }

    @Test(arguments: StoreKind.available)
    func anAutomaticReplyGoesOutOncePerKindOrRecordsItsRefusal(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in OutboxContractTests.fixture { try await stores.sql.execute(sql) }
            let outbox = stores.outbox
            let now = Date(ms: 5000)
            let ack = AutomaticReply(ticketId: 2, kind: .acknowledgement, text: "Thanks, Lee")
            let id = try #require(try await outbox.sendAutomaticReply(ack, now: now, vet: Self.allow))
            #expect(try await stores.sql.rows("SELECT ticket_id, direction, status, author, text, identity_id FROM messages WHERE id = \(id)") == [
                [.int(2), .text("out"), .text("queued"), .text("system"), .text("Thanks, Lee"), .int(3)]
            ])
            #expect(try await outbox.depth() == 1)
            #expect(try await stores.sql.rows("SELECT status, updated_at FROM tickets WHERE id = 2") == [[.text("open"), .int(5000)]])
            #expect(try await Self.history(stores, 2) == [[.text("acknowledgement"), .text("system"), .text("{}")]])
            #expect(try await outbox.sendAutomaticReply(ack, now: now, vet: Self.allow) == nil)
            #expect(try await outbox.depth() == 1)

            // Refused: the refusal is recorded, nothing is queued, and the kind is not tried again.
            let away = AutomaticReply(ticketId: 2, kind: .outOfHoursReply, text: "We are closed")
            #expect(try await outbox.sendAutomaticReply(away, now: now, vet: Self.refuse) == nil)
            #expect(try await outbox.sendAutomaticReply(away, now: now, vet: Self.allow) == nil)
            #expect(try await outbox.depth() == 1)
            #expect(try await Self.history(stores, 2) == [
                [.text("acknowledgement"), .text("system"), .text("{}")],
                [.text("out_of_hours_reply_not_sent"), .text("system"), .text(#"{"reason":"the window closed"}"#)],
            ])

            // A queue notice goes only to a ticket still waiting in the queue.
            let notice = AutomaticReply(ticketId: 1, kind: .queueNotice, text: "You are number 2", detail: ["position": "2"])
            #expect(try await outbox.sendAutomaticReply(notice, now: now, vet: Self.allow) == nil)  // assigned to agent 7
            try await stores.sql.execute("UPDATE tickets SET agent_id = NULL, queued_at = 10 WHERE id = 1")
            #expect(try await outbox.sendAutomaticReply(notice, now: now, vet: Self.allow) != nil)
            #expect(try await Self.history(stores, 1) == [[.text("queue_notice"), .text("system"), .text(#"{"position":"2"}"#)]])

            await #expect(throws: InboxError.ticketClosed(3)) { try await outbox.sendAutomaticReply(
                AutomaticReply(ticketId: 3, kind: .acknowledgement, text: "Hi"), now: now, vet: Self.allow) }
            await #expect(throws: InboxError.notFound("ticket 99")) { try await outbox.sendAutomaticReply(
                AutomaticReply(ticketId: 99, kind: .acknowledgement, text: "Hi"), now: now, vet: Self.allow) }
            #expect(try await Self.history(stores, 3) == [])
            #expect(try await outbox.depth() == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func aRatingRequestGoesOutOncePerResolvedTicketOrRecordsItsRefusal(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in SatisfactionContractTests.fixtures { try await stores.sql.execute(sql) }
            let satisfaction = stores.satisfactionStore
            let choices = [MessageContent.Choice(label: "Good", payload: "rating:good"), MessageContent.Choice(label: "Bad", payload: "rating:bad")]
            let now = Date(ms: 9000)
            // Ticket 5 is resolved and not yet asked.
            let id = try #require(try await satisfaction.requestRating(ticketId: 5, question: "How did we do?", choices: choices, now: now, vet: Self.allow))
            let message = try await stores.sql.rows("SELECT ticket_id, author, text, status, content FROM messages WHERE id = \(id)")
            #expect(message.first.map { Array($0.prefix(4)) } == [.int(5), .text("system"), .text("How did we do?"), .text("queued")])
            #expect(try MessageContent(storedJSON: try #require(message.first?[4].text)).choices == choices)
            #expect(try await stores.outbox.depth() == 1)
            let stored = try await stores.sql.rows("SELECT contact_id, agent_id, requested_at, state, reason, choices FROM ratings WHERE ticket_id = 5")
            #expect(stored.first.map { Array($0.prefix(5)) } == [.int(1), .null, .int(9000), .text("requested"), .null])
            #expect(try ContentCoding.decode([MessageContent.Choice].self, try #require(stored.first?[5].text)) == choices)
            #expect(try await satisfaction.requestRating(ticketId: 5, question: "Again?", choices: choices, now: now, vet: Self.allow) == nil)
            // Not resolved, already asked, no such ticket: nothing.
            for ticketId: Int64 in [3, 2, 99] {
                #expect(try await satisfaction.requestRating(ticketId: ticketId, question: "?", choices: choices, now: now, vet: Self.allow) == nil)
            }
            #expect(try await stores.outbox.depth() == 1)

            // Refused: recorded for the ticket's agent, with the reason; not asked again.
            try await stores.sql.execute("DELETE FROM ratings WHERE ticket_id = 1")
            #expect(try await satisfaction.requestRating(ticketId: 1, question: "?", choices: choices, now: now, vet: Self.refuse) == nil)
            #expect(try await stores.sql.rows("SELECT contact_id, agent_id, state, reason FROM ratings WHERE ticket_id = 1") == [
                [.int(1), .int(7), .text("not_sent"), .text("the window closed")]
            ])
            #expect(try await satisfaction.requestRating(ticketId: 1, question: "?", choices: choices, now: now, vet: Self.allow) == nil)
            #expect(try await stores.outbox.depth() == 1)
        }
    }

    /// Two processes sending the same automatic reply, and the same rating request, at once: one
    /// message each.
    @Test func twoProcessesSendingAtOnceSendOnce() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes throws in
            for sql in SatisfactionContractTests.fixtures { try await processes[0].sql.execute(sql) }
            let sent = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<16 {
                    let process = processes[index % 2]
                    group.addTask {
                        if index % 4 < 2 {
                            let reply = AutomaticReply(ticketId: 3, kind: .acknowledgement, text: "Thanks")
                            return try await process.outbox.sendAutomaticReply(reply, now: Date(ms: 1), vet: Self.allow) == nil ? 0 : 1
                        }
                        let rating = try await process.satisfactionStore.requestRating(
                            ticketId: 5, question: "?", choices: [MessageContent.Choice(label: "Good", payload: "rating:good")], now: Date(ms: 1),
                            vet: Self.allow)
                        return rating == nil ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(sent == 2)
            #expect(try await processes[0].sql.rows("SELECT ticket_id, count(*) FROM messages GROUP BY ticket_id ORDER BY ticket_id") == [
                [.int(3), .int(1)], [.int(5), .int(1)],
            ])
        }
    }
}
