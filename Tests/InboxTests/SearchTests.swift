import ChannelKit
import Foundation
import Testing
import UniversalInbox

@Suite struct SearchTests {
    func seeded() async throws -> (Inbox, [String: Int64]) {
        let inbox = try makeInbox()
        let conversations: [(user: String, name: String, account: ChannelAccountRef, phone: String?, texts: [String])] = [
            ("U1", "Kenji Sato", lineMain, nil, ["注文はどこですか？", "昨日届く予定でした"]),
            ("U2", "Ana Souza", whatsappMain, "5511988887777", ["Where is my order?", "The status page says shipped"]),
            ("U3", "Lena Vogel", whatsappMain, "4915112345678", ["Ich möchte meine Adresse ändern", "order 1234 please"]),
        ]
        var tickets: [String: Int64] = [:]
        for (n, c) in conversations.enumerated() {
            let events = c.texts.enumerated().map { i, text in
                InboundEvent(
                    kind: .message, eventId: "\(c.user)-\(i)", occurredAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(n * 10 + i)),
                    sender: Sender(id: c.user, displayName: c.name, phone: c.phone), message: InboundMessage(id: "m\(c.user)\(i)", content: .text(text)))
            }
            _ = try await inbox.ingest(events, from: c.account)
            tickets[c.user] = try await inbox.listTickets(TicketQuery()).items.first { $0.contact.displayName == c.name }?.id
        }
        return (inbox, tickets)
    }

    func ids(_ inbox: Inbox, _ query: TicketQuery) async throws -> Set<Int64> {
        Set(try await inbox.listTickets(query).items.map(\.id))
    }

    @Test func japaneseTextIsFound() async throws {
        let (inbox, t) = try await seeded()
        // Four characters: through the trigram index.
        #expect(try await ids(inbox, TicketQuery(text: "どこです")) == [t["U1"]!])
        #expect(try await ids(inbox, TicketQuery(text: "届く予定")) == [t["U1"]!])
        // Two characters, shorter than a trigram: by scanning.
        #expect(try await ids(inbox, TicketQuery(text: "注文")) == [t["U1"]!])
        #expect(try await ids(inbox, TicketQuery(text: "返品")).isEmpty)
    }

    @Test func wordsCaseAndCombinedFilters() async throws {
        let (inbox, t) = try await seeded()
        #expect(try await ids(inbox, TicketQuery(text: "ORDER")) == [t["U2"]!, t["U3"]!])
        #expect(try await ids(inbox, TicketQuery(text: "status shipped")) == [t["U2"]!])
        #expect(try await ids(inbox, TicketQuery(text: "order ändern")).isEmpty)  // all words in one message
        #expect(try await ids(inbox, TicketQuery(text: "ändern")) == [t["U3"]!])
        _ = try await inbox.setStatus(ticketId: t["U3"]!, to: .pending)
        #expect(try await ids(inbox, TicketQuery(status: .pending, text: "order")) == [t["U3"]!])
        #expect(try await ids(inbox, TicketQuery(channel: "line", text: "order")).isEmpty)
        #expect(try await ids(inbox, TicketQuery(text: #"he said "order" OR x*"#)).isEmpty)  // quotes and operators are just text
    }

    @Test func contactsByNamePhoneOrUserId() async throws {
        let (inbox, t) = try await seeded()
        #expect(try await ids(inbox, TicketQuery(contact: "souza")) == [t["U2"]!])
        #expect(try await ids(inbox, TicketQuery(contact: "+55 11 98888-7777")) == [t["U2"]!])
        #expect(try await ids(inbox, TicketQuery(contact: "U1")) == [t["U1"]!])
        #expect(try await ids(inbox, TicketQuery(contact: "nobody")).isEmpty)
    }

    @Test func indexedAndNotYetIndexedMessagesAreBothFound() async throws {
        let (inbox, t) = try await seeded()
        #expect(try await inbox.indexNewMessages() == 6)
        #expect(try await inbox.indexNewMessages() == 0)
        #expect(try await ids(inbox, TicketQuery(text: "どこです")) == [t["U1"]!])
        #expect(try await ids(inbox, TicketQuery(text: "ORDER")) == [t["U2"]!, t["U3"]!])
        // A message after the last indexing run is found by the tail scan, then by the index.
        _ = try await reply(inbox, ticket: t["U2"]!, "Your parcel is at the depot")
        #expect(try await ids(inbox, TicketQuery(text: "depot")) == [t["U2"]!])
        #expect(try await inbox.indexNewMessages() == 1)
        #expect(try await ids(inbox, TicketQuery(text: "depot")) == [t["U2"]!])
        #expect(try await ids(inbox, TicketQuery(text: "parcel depot")) == [t["U2"]!])
    }

    @Test func newAndRepliedMessagesAreSearchable() async throws {
        let (inbox, t) = try await seeded()
        _ = try await reply(inbox, ticket: t["U1"]!, "ご注文は本日発送しました")
        #expect(try await ids(inbox, TicketQuery(text: "本日発送")) == [t["U1"]!])
    }

    @Test func searchPagesInNewestMatchOrderWithoutRepeats() async throws {
        let inbox = try makeInbox()
        // Five customers write "refund"; the first also writes it again last, so its newest match is newest.
        for n in 1...5 {
            _ = try await inbox.ingest(
                [textEvent("e\(n)", from: "U\(n)", name: "C\(n)", text: "refund please \(n)", at: Date(timeIntervalSince1970: 1_700_000_000 + Double(n)))],
                from: lineMain)
        }
        _ = try await inbox.indexNewMessages()
        _ = try await inbox.ingest([textEvent("e6", from: "U1", name: "C1", text: "still waiting for the refund", at: Date(timeIntervalSince1970: 1_700_000_100))], from: lineMain)
        _ = try await inbox.ingest([textEvent("e7", from: "U6", name: "C6", text: "unrelated", at: Date(timeIntervalSince1970: 1_700_000_101))], from: lineMain)
        // Half indexed, half in the tail: pages of two go through all five, each once.
        for indexed in [false, true] {
            if indexed { _ = try await inbox.indexNewMessages() }
            var names: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                var query = TicketQuery(text: "REFUND", limit: 2)
                query.cursor = cursor
                let page = try await inbox.listTickets(query)
                names += page.items.compactMap(\.contact.displayName)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(names == ["C1", "C5", "C4", "C3", "C2"], "indexed: \(indexed)")
            #expect(pages == 3)
        }
        await #expect(throws: InboxError.self) { try await inbox.listTickets(TicketQuery(text: "refund", cursor: "bm90LWEtY3Vyc29y")) }
    }

    @Test func contactNamesAreFoundByAnyPartAfterRenames() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1", from: "U1", name: "山田 太郎", text: "hi")], from: lineMain)
        _ = try await inbox.ingest([textEvent("e2", from: "U2", name: "Maria Gonçalves", text: "hi")], from: lineMain)
        #expect(try await inbox.listTickets(TicketQuery(contact: "田 太")).items.map(\.contact.displayName) == ["山田 太郎"])
        #expect(try await inbox.listTickets(TicketQuery(contact: "GONÇ")).items.map(\.contact.displayName) == ["Maria Gonçalves"])
        #expect(try await inbox.listTickets(TicketQuery(contact: "Maria Gonçalves")).items.count == 1)
        #expect(try await inbox.listTickets(TicketQuery(contact: "ria gon")).items.count == 1)
        #expect(try await inbox.listTickets(TicketQuery(contact: "xyz")).items.isEmpty)
    }
}
