import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// `TicketQueryStore`'s single reads and `ContactStore.contact` as every implementation must keep
/// them: one ticket as the lists show it (the reader's unread flag, tags, channels, assignee), a
/// contact's tickets, a conversation in its order with its attachments, its pages walking back
/// from a message, and a contact with its identities, tags and fields.
@Suite struct TicketReadContractTests {
    /// Kim (contact 1: LINE and WhatsApp) has tickets 1 (the conversation), 2 (resolved as spam) and
    /// 3 (merged into 1); Lee (contact 2) has ticket 4 with no messages. Ticket 1's conversation in
    /// its order is messages 1, 3 (filed late, created before 2), 2, 4, 5, 6 (5 and 6 at the same
    /// time); message 3 has two attachments, 5 one whose media is unreadable. Agent 7 has read ticket
    /// 1 through message 3, agent 8 through 6.
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)",
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1)",
        "INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (1, 'Kim Tanaka', 'kim@example.com', 100, 100), (2, NULL, NULL, 200, 200)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, display_name, phone, last_inbound_at, blocked, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 'Kim', NULL, 1300, 0, 1),
               (2, 1, 'whatsapp/main', 'whatsapp', '15550001', NULL, '15550001', NULL, 1, 2),
               (3, 2, 'sms/main', 'sms', '15550002', NULL, '15550002', NULL, 0, 3)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, assignee, agent_id, department_id, priority, resolution_reason, queued_at, created_at, updated_at, resolved_at)
        VALUES (1, 1, 'open', 1, 'Ann (Slack)', 7, 1, 'high', NULL, 900, 1000, 1300, NULL),
               (2, 1, 'resolved', 1, NULL, NULL, NULL, 'normal', 'spam', NULL, 500, 600, 600),
               (3, 1, 'open', 2, NULL, NULL, NULL, 'normal', NULL, NULL, 700, 800, NULL),
               (4, 2, 'new', 3, NULL, NULL, NULL, 'low', NULL, NULL, 2000, 2000, NULL)
        """,
        "UPDATE tickets SET merged_into = 1 WHERE id = 3",
        "INSERT INTO ticket_channels (ticket_id, channel) VALUES (1, 'line'), (1, 'whatsapp'), (4, 'sms')",
        // Byte order puts capitals first: Zeta, billing, vip.
        "INSERT INTO ticket_tags (ticket_id, tag) VALUES (1, 'vip'), (1, 'Zeta'), (1, 'billing')",
        """
        INSERT INTO custom_fields (id, scope, key, label, type, created_at)
        VALUES (1, 'ticket', 'order', 'Order', 'text', 1), (2, 'contact', 'plan', 'Plan', 'text', 1), (3, 'contact', 'city', 'City', 'text', 1)
        """,
        "INSERT INTO ticket_fields (ticket_id, field_id, value) VALUES (1, 1, 'A-1')",
        "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (1, 2, 'gold'), (1, 3, 'Osaka')",
        "INSERT INTO contact_tags (contact_id, tag) VALUES (1, 'early-bird'), (1, 'VIP')",
        message(1, identity: 1, "in", "line", #"{"kind":"text","text":"Hello"}"#, "Hello", at: 1000),
        message(2, identity: 2, "out", "whatsapp", #"{"kind":"text","text":"Hi Kim"}"#, "Hi Kim", at: 1100, status: "sent", author: "Ann", platformId: "wamid.2"),
        message(3, identity: 1, "in", "line", #"{"kind":"image","media":{"fileName":"receipt.jpg","platformId":"p3"}}"#, "[receipt.jpg]", at: 1050),
        message(
            4, identity: 1, "out", "line", #"{"kind":"text","text":"We refunded it"}"#, "We refunded it", at: 1200, status: "failed", author: "Ann",
            failure: ("blocked", "the user blocked the account"), segments: (2, "ucs2")),
        message(5, identity: 1, "in", "line", #"{"kind":"file","media":{"platformId":"p5"}}"#, "[file]", at: 1300),
        message(6, identity: 1, "in", "line", #"{"kind":"text","text":"Thanks"}"#, "Thanks", at: 1300),
        """
        INSERT INTO attachments (id, message_id, account, media, status, mime_type, size, path, failure_reason, created_at, updated_at)
        VALUES (1, 3, 'line/main', '{"fileName":"receipt.jpg","platformId":"p3"}', 'stored', 'image/jpeg', 2048, '/data/attachments/1', NULL, 1050, 1060),
               (2, 3, 'line/main', '{"platformId":"p3b"}', 'failed', NULL, NULL, NULL, 'expired at the platform', 1050, 1070),
               (3, 5, 'line/main', 'not json', 'pending', NULL, NULL, NULL, NULL, 1300, 1300)
        """,
        "INSERT INTO ticket_reads (ticket_id, agent_id, last_message_id) VALUES (1, 7, 3), (1, 8, 6)",
    ]

    static func message(
        _ id: Int64, identity: Int64, _ direction: String, _ channel: String, _ content: String, _ text: String, at: Int64,
        status: String = "received", author: String? = nil, platformId: String? = nil, failure: (String, String)? = nil, segments: (Int, String)? = nil
    ) -> String {
        func literal(_ value: String?) -> String { value.map { "'\($0)'" } ?? "NULL" }
        return """
            INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, platform_message_id, idempotency_key,
                                  failure_code, failure_reason, segments, segment_encoding, author, created_at, updated_at)
            VALUES (\(id), 1, \(identity), '\(direction)', '\(channel)', '\(channel)/main', '\(content)', '\(text)', '\(status)', \(literal(platformId)), 'k\(id)',
                    \(literal(failure?.0)), \(literal(failure?.1)), \(segments.map { String($0.0) } ?? "NULL"), \(literal(segments?.1)), \(literal(author)), \(at), \(at + 5))
            """
    }

    static func seeded(_ stores: Stores) async throws {
        for sql in fixture { try await stores.sql.execute(sql) }
    }

    static let receipt = AttachmentInfo(
        id: 1, messageId: 3, status: .stored, mimeType: "image/jpeg", size: 2048, fileName: "receipt.jpg", path: "/data/attachments/1", failureReason: nil)
    static let expired = AttachmentInfo(
        id: 2, messageId: 3, status: .failed, mimeType: nil, size: nil, fileName: nil, path: nil, failureReason: "expired at the platform")

    static let photo = StoredMessage(
        id: 3, ticketId: 1, direction: .inbound, channel: "line", account: "line/main",
        content: MessageContent(kind: .image, media: MediaReference(platformId: "p3", fileName: "receipt.jpg")), text: "[receipt.jpg]",
        status: "received", platformMessageId: nil, failureCode: nil, failureReason: nil, segments: nil, author: nil,
        attachments: [receipt, expired], createdAt: Date(ms: 1050), updatedAt: Date(ms: 1055))

    static let failedReply = StoredMessage(
        id: 4, ticketId: 1, direction: .outbound, channel: "line", account: "line/main", content: .text("We refunded it"), text: "We refunded it",
        status: "failed", platformMessageId: nil, failureCode: "blocked", failureReason: "the user blocked the account",
        segments: MessageSegments(count: 2, encoding: "ucs2"), author: "Ann", attachments: [], createdAt: Date(ms: 1200), updatedAt: Date(ms: 1205))

    static let sentReply = StoredMessage(
        id: 2, ticketId: 1, direction: .outbound, channel: "whatsapp", account: "whatsapp/main", content: .text("Hi Kim"), text: "Hi Kim",
        status: "sent", platformMessageId: "wamid.2", failureCode: nil, failureReason: nil, segments: nil, author: "Ann", attachments: [],
        createdAt: Date(ms: 1100), updatedAt: Date(ms: 1105))

    @Test(arguments: StoreKind.available)
    func aTicketReadsAsTheListShowsIt(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.ticketQueries
            let expected = TicketSummary(
                id: 1, status: .open, contact: ContactSummary(id: 1, displayName: "Kim Tanaka"), channels: ["line", "whatsapp"],
                createdAt: Date(ms: 1000), updatedAt: Date(ms: 1300), resolvedAt: nil, assignee: "Ann (Slack)", agentId: 7, departmentId: 1,
                priority: .high, tags: ["Zeta", "billing", "vip"], resolutionReason: nil, mergedInto: nil, queuedAt: Date(ms: 900), version: 6,
                unread: true, fields: ["order": "A-1"],
                lastMessage: TicketSummary.LastMessage(direction: "in", text: "Thanks", createdAt: Date(ms: 1300)), waitingSince: Date(ms: 1300))
            // Agent 7 has read through message 3 (messages 5 and 6 came in since); agent 8 through 6.
            #expect(try await store.ticket(id: 1, reader: 7) == expected)
            #expect(try await store.ticket(id: 1, reader: 8)?.unread == false)
            #expect(try await store.ticket(id: 1, reader: nil)?.unread == nil)
            // The same as the list shows it.
            let listed = try await store.newest(TicketFilter(), containing: [], after: nil, limit: 50, reader: 7, limits: SearchLimits())
            #expect(listed.items.first { $0.id == 1 } == expected)
            let resolved = try await store.ticket(id: 2, reader: nil)
            #expect(resolved?.status == .resolved && resolved?.resolutionReason == .spam && resolved?.resolvedAt == Date(ms: 600))
            #expect(resolved?.version == 0 && resolved?.lastMessage == nil && resolved?.channels == [] && resolved?.tags == [])
            #expect(try await store.ticket(id: 3, reader: nil)?.mergedInto == 1)
            #expect(try await store.ticket(id: 4, reader: 7)?.contact == ContactSummary(id: 2, displayName: nil))
            #expect(try await store.ticket(id: 99, reader: 7) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aContactsTicketsAreNewestFirstWithoutMergedOnes(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            #expect(try await stores.ticketQueries.tickets(ofContact: 1) == [2, 1])
            #expect(try await stores.ticketQueries.tickets(ofContact: 2) == [4])
            #expect(try await stores.ticketQueries.tickets(ofContact: 99) == [])
        }
    }

    @Test(arguments: StoreKind.available)
    func aConversationComesInItsOrderWithItsAttachments(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.ticketQueries
            let messages = try #require(try await store.messages(ticketId: 1))
            #expect(messages.map(\.id) == [1, 3, 2, 4, 5, 6])
            #expect(messages[1] == Self.photo)
            #expect(messages[2] == Self.sentReply)
            #expect(messages[3] == Self.failedReply)
            // Media the store cannot read leaves the attachment without a file name.
            #expect(messages[4].attachments == [
                AttachmentInfo(id: 3, messageId: 5, status: .pending, mimeType: nil, size: nil, fileName: nil, path: nil, failureReason: nil)
            ])
            #expect(messages[0].attachments == [] && messages[0].content == .text("Hello"))
            #expect(try await store.messages(ticketId: 4) == [])
            #expect(try await store.messages(ticketId: 99) == nil)
            #expect(try await store.message(id: 3) == Self.photo)
            #expect(try await store.message(id: 4) == Self.failedReply)
            #expect(try await store.message(id: 99) == nil)
            #expect(try await store.attachment(id: 1) == Self.receipt)
            #expect(try await store.attachment(id: 2) == Self.expired)
            #expect(try await store.attachment(id: 99) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func pagesWalkBackFromAMessage(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let store = stores.ticketQueries
            // Newest first by page, in conversation order within one: [5, 6], [2, 4], [1, 3].
            let newest = try #require(try await store.messagePage(ticketId: 1, before: nil, limit: 2))
            #expect(newest.items.map(\.id) == [5, 6] && newest.nextBefore == 5)
            let middle = try #require(try await store.messagePage(ticketId: 1, before: 5, limit: 2))
            #expect(middle.items == [Self.sentReply, Self.failedReply] && middle.nextBefore == 2)
            let oldest = try #require(try await store.messagePage(ticketId: 1, before: 2, limit: 2))
            #expect(oldest.items.map(\.id) == [1, 3] && oldest.nextBefore == nil)
            #expect(oldest.items[1] == Self.photo)
            // Messages at the same time are in id order: before 6 comes 5.
            #expect(try await store.messagePage(ticketId: 1, before: 6, limit: 1) == MessagePage(items: [try #require(try await store.message(id: 5))], nextBefore: 5))
            // A page as long as what is left is the last.
            #expect(try await store.messagePage(ticketId: 1, before: nil, limit: 6)?.nextBefore == nil)
            #expect(try await store.messagePage(ticketId: 1, before: nil, limit: 5)?.nextBefore == 3)
            // Every page together is the conversation (a position that does not move stops after 5 pages).
            var all: [StoredMessage] = []
            var before: Int64?
            var pages = 0
            repeat {
                let page = try #require(try await store.messagePage(ticketId: 1, before: before, limit: 4))
                all = page.items + all
                before = page.nextBefore
                pages += 1
            } while before != nil && pages < 5
            #expect(pages == 2)
            #expect(all == (try await store.messages(ticketId: 1)))
            #expect(try await store.messagePage(ticketId: 4, before: nil, limit: 10) == MessagePage(items: [], nextBefore: nil))
            #expect(try await store.messagePage(ticketId: 99, before: nil, limit: 10) == nil)
            // A message of another ticket, or none, is not a position in this one.
            await #expect(throws: MessagePage.invalidBefore(1, ticketId: 4)) { try await store.messagePage(ticketId: 4, before: 1, limit: 10) }
            await #expect(throws: MessagePage.invalidBefore(99, ticketId: 1)) { try await store.messagePage(ticketId: 1, before: 99, limit: 10) }
        }
    }

    @Test(arguments: StoreKind.available)
    func aContactReadsWithItsIdentitiesTagsAndFields(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await Self.seeded(stores)
            let expected = ContactDetail(
                id: 1, displayName: "Kim Tanaka", email: "kim@example.com", fields: ["plan": "gold", "city": "Osaka"], tags: ["VIP", "early-bird"],
                identities: [
                    ContactDetail.Identity(
                        channel: "line", account: "line/main", platformUserId: "U1", displayName: "Kim", phone: nil, lastInboundAt: Date(ms: 1300),
                        blocked: false),
                    ContactDetail.Identity(
                        channel: "whatsapp", account: "whatsapp/main", platformUserId: "15550001", displayName: nil, phone: "15550001",
                        lastInboundAt: nil, blocked: true),
                ],
                createdAt: Date(ms: 100))
            #expect(try await stores.contactStore.contact(id: 1) == expected)
            let bare = try await stores.contactStore.contact(id: 2)
            #expect(bare?.displayName == nil && bare?.email == nil && bare?.fields == [:] && bare?.tags == [] && bare?.identities.map(\.channel) == ["sms"])
            #expect(bare?.createdAt == Date(ms: 200))
            #expect(try await stores.contactStore.contact(id: 99) == nil)
        }
    }
}
