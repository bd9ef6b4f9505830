import ChannelKit
import Foundation
import GRDB
import TestSupport
import Testing
import UniversalInbox

@Suite struct IngestTests {
    @Test func firstMessageOpensTicketForNewContact() async throws {
        let inbox = try makeInbox()
        let result = try await inbox.ingest([textEvent("e1", text: "Where is my order?")], from: lineMain)
        #expect(result.stored == 1)
        #expect(result.duplicates == 0)
        let page = try await inbox.listTickets(TicketQuery())
        let ticket = try #require(page.items.first)
        #expect(page.items.count == 1)
        #expect(ticket.status == .new)
        #expect(ticket.channels == ["line"])
        #expect(ticket.contact.displayName == "Kenji")
        let messages = try #require(try await inbox.messages(ticketId: ticket.id))
        #expect(messages.map(\.text) == ["Where is my order?"])
        #expect(messages.first?.direction == .inbound)
        #expect(messages.first?.status == "received")
        let contact = try #require(try await inbox.contact(id: ticket.contact.id))
        #expect(contact.identities.map(\.platformUserId) == ["U1"])
        #expect(contact.identities.first?.account == "line/main")
    }

    @Test func redeliveryCreatesNothingTwice() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        let again = try await inbox.ingest([textEvent("e1"), textEvent("e2", text: "second")], from: lineMain)
        #expect(again.stored == 1)
        #expect(again.duplicates == 1)
        let tickets = try await inbox.listTickets(TicketQuery()).items
        #expect(tickets.count == 1)
        #expect(try await inbox.messages(ticketId: tickets[0].id)?.map(\.text) == ["hello", "second"])
    }

    @Test func sameEventIdOnAnotherAccountIsNotADuplicate() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        let other = try await inbox.ingest([textEvent("e1")], from: ChannelAccountRef(kind: .line, id: "jp"))
        #expect(other.stored == 1)
    }

    @Test func concurrentRedeliveriesStoreExactlyOnce() async throws {
        let inbox = try makeInbox()
        let results = try await withThrowingTaskGroup(of: IngestResult.self) { group in
            for _ in 0..<50 { group.addTask { try await inbox.ingest([textEvent("same")], from: lineMain) } }
            return try await group.reduce(into: [IngestResult]()) { $0.append($1) }
        }
        #expect(results.map(\.stored).reduce(0, +) == 1)
        #expect(results.map(\.duplicates).reduce(0, +) == 49)
        let count = try await inbox.database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM messages") }
        #expect(count == 1)
    }

    @Test func customerReplyReopensPendingAndResolved() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        let id = try await inbox.listTickets(TicketQuery()).items[0].id
        for (n, status) in [TicketStatus.pending, .resolved].enumerated() {
            _ = try await inbox.setStatus(ticketId: id, to: status)
            _ = try await inbox.ingest([textEvent("r\(n)")], from: lineMain)
            let ticket = try #require(try await inbox.ticket(id: id))
            #expect(ticket.status == .open)
            #expect(ticket.resolvedAt == nil)
        }
        #expect(try await inbox.listTickets(TicketQuery()).items.count == 1)
    }

    @Test func closedTicketNeverReopens() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        let first = try await inbox.listTickets(TicketQuery()).items[0].id
        _ = try await inbox.setStatus(ticketId: first, to: .closed)
        await #expect(throws: InboxError.conflict(code: "ticket_closed", message: "ticket \(first) is closed and cannot be reopened")) {
            _ = try await inbox.setStatus(ticketId: first, to: .open)
        }
        _ = try await inbox.ingest([textEvent("e2", text: "new question")], from: lineMain)
        let tickets = try await inbox.listTickets(TicketQuery()).items
        #expect(tickets.count == 2)
        #expect(try await inbox.ticket(id: first)?.status == .closed)
        let second = try #require(tickets.first { $0.id != first })
        #expect(second.status == .new)
        #expect(try await inbox.messages(ticketId: second.id)?.map(\.text) == ["new question"])
    }

    @Test func spamTicketStaysSpam() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        let id = try await inbox.listTickets(TicketQuery()).items[0].id
        _ = try await inbox.setStatus(ticketId: id, to: .spam)
        _ = try await inbox.ingest([textEvent("e2")], from: lineMain)
        #expect(try await inbox.ticket(id: id)?.status == .spam)
        #expect(try await inbox.messages(ticketId: id)?.count == 2)
    }

    @Test func resolvedTicketsCloseAfterThePeriod() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        _ = try await inbox.ingest([textEvent("e1", from: "U1")], from: lineMain)
        _ = try await inbox.ingest([textEvent("e2", from: "U2")], from: lineMain)
        let ids = try await inbox.listTickets(TicketQuery()).items.map(\.id)
        _ = try await inbox.setStatus(ticketId: ids[0], to: .resolved)
        clock.advance(by: 13 * 86400)
        _ = try await inbox.setStatus(ticketId: ids[1], to: .resolved)
        clock.advance(by: 1 * 86400 + 1)
        let cutoff = clock.now.addingTimeInterval(-14 * 86400)
        #expect(try await inbox.closeResolvedTickets(resolvedBefore: cutoff) == 1)
        #expect(try await inbox.ticket(id: ids[0])?.status == .closed)
        #expect(try await inbox.ticket(id: ids[1])?.status == .resolved)
    }

    @Test func followAndUnfollowMarkTheIdentity() async throws {
        let inbox = try makeInbox()
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        _ = try await inbox.ingest([InboundEvent(kind: .unfollow, eventId: "u1", occurredAt: Date(), sender: Sender(id: "U1"))], from: lineMain)
        let contactId = try await inbox.listTickets(TicketQuery()).items[0].contact.id
        #expect(try await inbox.contact(id: contactId)?.identities.first?.blocked == true)
        _ = try await inbox.ingest([InboundEvent(kind: .follow, eventId: "f1", occurredAt: Date(), sender: Sender(id: "U1"))], from: lineMain)
        #expect(try await inbox.contact(id: contactId)?.identities.first?.blocked == false)
    }

    @Test func mediaAndUnknownNamesQueueFollowUps() async throws {
        let inbox = try makeInbox()
        let image = InboundEvent(
            kind: .message, eventId: "img", occurredAt: Date(), sender: Sender(id: "U9"),
            message: InboundMessage(id: "m9", content: MessageContent(kind: .image, media: MediaReference(platformId: "m9"))))
        _ = try await inbox.ingest([image], from: lineMain)
        let jobs = try await inbox.claimFollowUps(limit: 10, lease: 60)
        #expect(Set(jobs.map(\.kind.rawValue)) == ["media", "profile"])
        let media = try #require(jobs.first { $0.kind == .media })
        #expect(media.media?.platformId == "m9")
        #expect(media.mediaKind == .image)
        #expect(jobs.first { $0.kind == .profile }?.platformUserId == "U9")
        // Leased jobs are not handed out twice.
        #expect(try await inbox.claimFollowUps(limit: 10, lease: 60).isEmpty)
        try await inbox.attachmentStored(job: media, path: "/tmp/x", mimeType: "image/png", size: 12)
        let profile = try #require(jobs.first { $0.kind == .profile })
        try await inbox.profileFetched(job: profile, displayName: "Mika")
        let ticket = try await inbox.listTickets(TicketQuery()).items[0]
        #expect(ticket.contact.displayName == "Mika")
        let attachment = try #require(try await inbox.messages(ticketId: ticket.id)?.first?.attachments.first)
        #expect(attachment.status == .stored)
        #expect(attachment.size == 12)
    }

    @Test func listFiltersAndPaginates() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        for i in 0..<5 {
            clock.advance(by: 1)
            _ = try await inbox.ingest([textEvent("l\(i)", from: "L\(i)")], from: lineMain)
        }
        for i in 0..<3 {
            clock.advance(by: 1)
            _ = try await inbox.ingest([textEvent("w\(i)", from: "W\(i)")], from: whatsappMain)
        }
        let whatsapp = try await inbox.listTickets(TicketQuery(channel: "whatsapp"))
        #expect(whatsapp.items.count == 3)
        #expect(whatsapp.items.allSatisfy { $0.channels == ["whatsapp"] })
        var seen: [Int64] = []
        var cursor: String?
        repeat {
            let page = try await inbox.listTickets(TicketQuery(cursor: cursor, limit: 3))
            seen += page.items.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == Array((1...8).reversed()))
        _ = try await inbox.setStatus(ticketId: 2, to: .pending)
        #expect(try await inbox.listTickets(TicketQuery(status: .pending)).items.map(\.id) == [2])
        await #expect(throws: InboxError.self) { _ = try await inbox.listTickets(TicketQuery(cursor: "garbage")) }
    }
}
