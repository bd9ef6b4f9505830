import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// E-mail threading in the ingest, on both databases: a reply files into the ticket of the message
/// it answers (reopening it when closed), a subject token only into the sender's own ticket, and a
/// mail that answers nothing opens a new ticket.
@Suite struct MailThreadingContractTests {
    static let email = ChannelAccountRef(kind: .email, id: "support")
    static let now = Date(ms: 1_700_000_000_000)

    static func mail(_ id: String, from: String, references: [String] = [], ticket: Int64? = nil) -> InboundEvent {
        InboundEvent(
            kind: .message, eventId: id, occurredAt: Date(ms: 1_699_999_000_000), sender: Sender(id: from, displayName: from),
            message: InboundMessage(id: id, content: .text("text of \(id)"), thread: MessageThread(references: references, ticketNumber: ticket)))
    }

    func file(_ stores: Stores, _ events: [InboundEvent]) async throws {
        for result in await stores.ingestStore.file([WebhookEvents(account: Self.email, events: events)], now: Self.now) { _ = try result.get() }
    }

    func ticketOf(_ id: String, _ stores: Stores) async throws -> Int64 {
        try await stores.sql.int64("SELECT ticket_id FROM messages WHERE platform_message_id = '\(id)'")
    }

    @Test(arguments: StoreKind.available)
    func repliesThreadAndNewMailOpensANewTicket(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await file(stores, [Self.mail("a1@x", from: "ana@x")])
            let first = try await ticketOf("a1@x", stores)
            // Not a reply: a new ticket although the first is still open (a new subject is a new conversation).
            try await file(stores, [Self.mail("a2@x", from: "ana@x")])
            let second = try await ticketOf("a2@x", stores)
            #expect(second != first)
            // A reply to the first (an unknown id nearer, the first's id further up), in one group
            // with a reply to the second.
            try await file(stores, [Self.mail("a3@x", from: "ana@x", references: ["unknown@y", "a1@x"]), Self.mail("a4@x", from: "ana@x", references: ["a2@x"])])
            #expect(try await ticketOf("a3@x", stores) == first)
            #expect(try await ticketOf("a4@x", stores) == second)
            // A reply into a closed ticket reopens it.
            try await stores.sql.execute("UPDATE tickets SET status = 'closed' WHERE id = \(first)")
            try await file(stores, [Self.mail("a5@x", from: "ana@x", references: ["a3@x"])])
            #expect(try await ticketOf("a5@x", stores) == first)
            #expect(try await stores.sql.rows("SELECT status FROM tickets WHERE id = \(first)") == [[.text("open")]])
            // The subject token: honoured for the sender's own ticket, not for someone else's.
            try await file(stores, [Self.mail("a6@x", from: "ana@x", ticket: second), Self.mail("b1@x", from: "bob@x", ticket: second)])
            #expect(try await ticketOf("a6@x", stores) == second)
            let bobs = try await ticketOf("b1@x", stores)
            #expect(bobs != second && bobs != first)
            #expect(try await stores.sql.int64("SELECT count(*) FROM tickets") == 3)
        }
    }
}
