import ChannelKit
import Foundation
import Testing

@testable import EmailChannel

/// A parsed mail as the inbox's events: messages (attachments as media the follow-up worker
/// copies), nothing for machine mail, a failed receipt for a bounce.
@Suite struct MailEventsTests {
    static func events(_ name: String) throws -> [InboundEvent] {
        let raw = try Data(contentsOf: MailFixtureTests.root.appendingPathComponent("\(name).eml"))
        return try MailEvents.events(from: ParsedMail.parse(raw), raw: raw, receivedAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func aNewMailStartsWithItsSubject() throws {
        let events = try Self.events("plain")
        #expect(events == [
            InboundEvent(
                kind: .message, eventId: "CAF1234.plain@mail.example.com", occurredAt: Date(timeIntervalSince1970: 1_800_000_000),
                sender: Sender(id: "ana.lima@example.com", displayName: "Ana Lima"),
                message: InboundMessage(
                    id: "CAF1234.plain@mail.example.com",
                    content: .text("Where is my order?\n\nHello,\n\nI ordered a lamp last week and it has not arrived.\nOrder 1234.\n\nAna"),
                    thread: MessageThread(references: [], subject: "Where is my order?"))),
        ])
    }

    @Test func aReplyIsItsTrimmedTextInTheThreadItAnswers() throws {
        let events = try Self.events("quoted-reply")
        #expect(events.map { $0.message?.content.text } == ["Great, thank you! I will wait for the courier."])
        #expect(events.first?.message?.thread == MessageThread(
            references: ["ticket-42.msg-7@shop.example", "CAF1234.plain@mail.example.com"], ticketNumber: 42, subject: "Re: Where is my order? [#42]"))
    }

    @Test func machineMailIsFiledNowhere() throws {
        #expect(try Self.events("auto-reply").isEmpty)
        #expect(try Self.events("precedence-bulk").isEmpty)
        let person = "From: Ana <ana@example.com>\r\nSubject: Hi\r\nMessage-ID: <p1@example.com>\r\n"
        for header in ["List-Id: News <news.example.com>", "List-Unsubscribe: <https://example.com/u>", "Return-Path: <>"] {
            let raw = Data((person + header + "\r\n\r\nHello\r\n").utf8)
            #expect(try MailEvents.events(from: ParsedMail.parse(raw), raw: raw, receivedAt: Date()).isEmpty, "\(header)")
        }
        let raw = Data((person + "Return-Path: <ana@example.com>\r\n\r\nHello\r\n").utf8)
        #expect(try MailEvents.events(from: ParsedMail.parse(raw), raw: raw, receivedAt: Date()).count == 1)
    }

    @Test func aBounceFailsTheMessageItNames() throws {
        let events = try Self.events("dsn-bounce")
        #expect(events.map(\.kind) == [.receipt])
        #expect(events.first?.receipt == DeliveryReceipt(
            messageId: "ticket-44.msg-3@shop.example", status: .failed, errorCode: "bounced",
            errorMessage: "failed; 5.1.1; smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"))
    }

    @Test func attachmentsAreMediaWithinTheSizeLimit() async throws {
        let events = try Self.events("multipart-attachment")
        #expect(events.map(\.eventId) == ["attach-1@mail.example.com", "attach-1@mail.example.com#1", "attach-1@mail.example.com#2"])
        #expect(events.map { $0.message?.content.kind } == [.text, .image, .file])
        // A new conversation; its attachments follow the mail's text into the same ticket.
        #expect(events.map { $0.message?.thread } == [
            MessageThread(references: [], subject: "Invoice and photo"), MessageThread(references: ["attach-1@mail.example.com"]), MessageThread(references: ["attach-1@mail.example.com"]),
        ])
        let pdf = try #require(events[2].message?.content.media)
        #expect(pdf.fileName == "請求書.pdf")
        #expect(pdf.size == 66)
        #expect(MessageContent(kind: .file, media: pdf).needsDownload)
        let adapter = EmailAdapter(configuration: EmailConfiguration(
            id: "support", address: "help@shop.example", imap: .init(url: "imaps://imap.example", username: "u", password: "p")))
        let file = try await adapter.downloadMedia(pdf, kind: .file, maxBytes: 1000, transport: NoTransport())
        #expect(file.data.starts(with: Data("%PDF-1.4".utf8)))
        #expect(file.mimeType == "application/pdf")
        await #expect(throws: SendError.self) { try await adapter.downloadMedia(pdf, kind: .file, maxBytes: 65, transport: NoTransport()) }
    }

    @Test func aMailWithoutSenderIsUnreadable() {
        let raw = Data("Subject: hi\r\n\r\nbody\r\n".utf8)
        #expect(throws: WebhookError.malformed("the mail has no sender address (From)")) {
            try MailEvents.events(from: ParsedMail.parse(raw), raw: raw, receivedAt: Date())
        }
    }
}

/// E-mail media never goes over HTTP.
struct NoTransport: HTTPTransport {
    func perform(_ request: TransportRequest, maxResponseBytes: Int) async throws -> TransportResponse {
        Issue.record("unexpected HTTP request to \(request.url)")
        throw SendError.permanent("no_http", "no HTTP here")
    }
}
