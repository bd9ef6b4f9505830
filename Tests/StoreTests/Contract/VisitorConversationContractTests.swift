import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// `VisitorConversationStore` as every `TicketQueryStore` must keep it: a website visitor sees the
/// messages on their own identity (account and user id both), in id order, after a position and in
/// pages, with their attachments; never another identity's, even of the same contact or the same
/// user id on another account, nor any other channel's. Built on TicketReadContractTests'
/// conversation with Kim's LINE identity made a website chat one: her chat identity (1) holds
/// messages 1, 3, 4, 5, 6, her WhatsApp identity (2) message 2; identity 9 is visitor `U1` on
/// another website chat account, with message 7.
@Suite struct VisitorConversationContractTests {
    static func seeded(_ stores: Stores) async throws {
        try await TicketReadContractTests.seeded(stores)
        try await stores.sql.execute("UPDATE identities SET channel = 'webchat', account = 'webchat/main' WHERE id = 1")
        try await stores.sql.execute("UPDATE messages SET channel = 'webchat', account = 'webchat/main' WHERE identity_id = 1")
        try await stores.sql.execute("""
            INSERT INTO identities (id, contact_id, account, channel, platform_user_id, display_name, phone, last_inbound_at, blocked, created_at)
            VALUES (9, 2, 'webchat/other', 'webchat', 'U1', NULL, NULL, NULL, 0, 9)
            """)
        try await stores.sql.execute(TicketReadContractTests.message(7, identity: 9, "in", "webchat", #"{"kind":"text","text":"Other"}"#, "Other", at: 2100))
        try await stores.sql.execute("UPDATE messages SET ticket_id = 4, account = 'webchat/other' WHERE id = 7")
    }

    @Test(arguments: StoreKind.available)
    func aVisitorSeesOnlyTheirOwnIdentitysMessages(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.inbox.ticketQueries
            let all = try await store.visitorMessages(account: "webchat/main", visitorId: "U1", after: 0, limit: 50)
            #expect(all.map(\.id) == [1, 3, 4, 5, 6])
            #expect(all.first { $0.id == 3 }?.attachments == [TicketReadContractTests.receipt, TicketReadContractTests.expired])
            #expect(all.first { $0.id == 4 }?.status == "failed")
            #expect(try await store.visitorMessages(account: "webchat/main", visitorId: "U1", after: 3, limit: 2).map(\.id) == [4, 5])
            #expect(try await store.visitorMessages(account: "webchat/other", visitorId: "U1", after: 0, limit: 50).map(\.id) == [7])
            // Kim's WhatsApp messages are not a website visitor's.
            #expect(try await store.visitorMessages(account: "whatsapp/main", visitorId: "15550001", after: 0, limit: 50).isEmpty)
            #expect(try await store.visitorTicket(account: "whatsapp/main", visitorId: "15550001") == nil)
            #expect(try await store.visitorMessages(account: "webchat/main", visitorId: "U2", after: 0, limit: 50).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func onlyTheVisitorsOwnOfTheIdsAsked(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.inbox.ticketQueries
            #expect(try await store.visitorMessages(account: "webchat/main", visitorId: "U1", ids: [7, 6, 2, 3, 99]).map(\.id) == [3, 6])
            #expect(try await store.visitorMessages(account: "webchat/other", visitorId: "U1", ids: [1, 7]).map(\.id) == [7])
            #expect(try await store.visitorMessages(account: "webchat/main", visitorId: "U1", ids: [2]).isEmpty)
        }
    }

    /// Whose each of the asked messages is, on one channel only (a process's visitor feeds ask it
    /// once for every new message in the log).
    @Test(arguments: StoreKind.available)
    func whoseMessagesTheyAreOnAChannel(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.inbox.ticketQueries
            #expect(try await store.messageIdentities(ids: [7, 6, 2, 3, 99], channel: "webchat") == [
                MessageIdentity(messageId: 3, account: "webchat/main", userId: "U1"),
                MessageIdentity(messageId: 6, account: "webchat/main", userId: "U1"),
                MessageIdentity(messageId: 7, account: "webchat/other", userId: "U1"),
            ])
            #expect(try await store.messageIdentities(ids: [1, 2], channel: "whatsapp") == [MessageIdentity(messageId: 2, account: "whatsapp/main", userId: "15550001")])
            #expect(try await store.messageIdentities(ids: [1, 2, 99], channel: "line").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func theVisitorsChatIsTheTicketOfTheirNewestMessage(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.inbox.ticketQueries
            #expect(try await store.visitorTicket(account: "webchat/main", visitorId: "U1") == 1)
            #expect(try await store.visitorTicket(account: "webchat/other", visitorId: "U1") == 4)
            #expect(try await store.visitorTicket(account: "webchat/main", visitorId: "U9") == nil)
        }
    }

    /// A rating lands on the visitor's chat, for its agent, as the satisfaction answers show it;
    /// a second one replaces the first; a visitor who never wrote rates nothing.
    @Test(arguments: StoreKind.available)
    func aVisitorRatesTheirChat(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.inbox.ticketQueries
            #expect(try await store.rateVisitorTicket(account: "webchat/main", visitorId: "U1", rating: .good, at: Date(ms: 5000)) == 1)
            #expect(try await stores.inbox.satisfactionStore.answeredRatings(contactId: 1)
                == [AnsweredRating(ticketId: 1, rating: "good", answeredAt: Date(ms: 5000), agentId: 7, departmentId: 1)])
            #expect(try await store.rateVisitorTicket(account: "webchat/main", visitorId: "U1", rating: .bad, at: Date(ms: 6000)) == 1)
            #expect(try await stores.inbox.satisfactionStore.answeredRatings(contactId: 1).map(\.rating) == ["bad"])
            let history = try #require(try await stores.inbox.ticketStore.history(ticketId: 1)).filter { $0.kind == "rated" }
            #expect(history.count == 2)
            #expect(try await store.rateVisitorTicket(account: "webchat/main", visitorId: "U9", rating: .good, at: Date(ms: 7000)) == nil)
            #expect(try await stores.inbox.satisfactionStore.answeredRatings(contactId: 2).isEmpty)
        }
    }

    /// The visitor's contact, and who already has an address (ASCII letters compared in lower
    /// case): Kim (contact 1) is kim@example.com.
    @Test(arguments: StoreKind.available)
    func theVisitorsContactAndWhoHasAnAddress(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            try await stores.sql.execute("UPDATE contacts SET email = 'Kim@Example.com' WHERE id = 1")
            let store = stores.inbox.ticketQueries
            #expect(try await store.visitorContact(account: "webchat/main", visitorId: "U1") == 1)
            #expect(try await store.visitorContact(account: "webchat/other", visitorId: "U1") == 2)
            #expect(try await store.visitorContact(account: "webchat/main", visitorId: "U9") == nil)
            #expect(try await store.contact(email: "kim@example.com", excluding: 2) == 1)
            #expect(try await store.contact(email: "kim@example.com", excluding: 1) == nil)
            #expect(try await store.contact(email: "lee@example.com", excluding: 2) == nil)
        }
    }
}
