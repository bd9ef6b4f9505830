import ChannelKit
import Email
import EmailChannel
import Foundation
import Testing

/// How a reply by e-mail is written: the subject mail programs thread on, the conversation's
/// headers (never a header from an id that is not one), text and HTML that our own parser reads back.
@Suite struct EmailReplyRenderingTests {
    @Test(arguments: [
        ("Where is my order?", 42, "Re: Where is my order? [#42]"),
        ("Re: Where is my order?", 42, "Re: Where is my order? [#42]"),
        ("RE: AW: Lieferung", 7, "Re: Lieferung [#7]"),
        ("Re: Where is my order? [#42]", 42, "Re: Where is my order? [#42]"),
        ("", 5, "Re: [#5]"),
        ("注文について", 3, "Re: 注文について [#3]"),
        // Another helpdesk's token in the customer's subject goes; ours is the one left, last.
        ("Fwd: Order [#5512] late", 9, "Re: Fwd: Order late [#9]"),
    ])
    func replySubject(_ subject: String, _ ticket: Int64, _ expected: String) {
        #expect(EmailSender.replySubject(MessageThread(references: [], ticketNumber: ticket, subject: subject)) == expected)
    }

    @Test func aReplyCarriesTheConversationAndReadsBack() throws {
        let mail = EmailMessage(
            from: "Shop Support <help@shop.example>", to: "ana@example.com", subject: "Re: Lamp [#9]", text: "Hello <Ana> & co.\n\nSee you.", id: "k-1",
            html: EmailMessage.html(fromText: "Hello <Ana> & co.\n\nSee you."),
            answering: ["new@mail.example", "bad id\r\nBcc: x@evil.example", "<broken>@x", "old@mail.example"])
        let raw = try mail.rendered()
        let text = String(decoding: raw, as: UTF8.self)
        // Ids that could break a header are left out, not escaped.
        #expect(!text.contains("evil.example") && !text.contains("broken"))
        let parsed = ParsedMail.parse(raw)
        #expect(parsed.messageId == "k-1@shop.example")
        #expect(try mail.messageId() == "k-1@shop.example")
        #expect(parsed.inReplyTo == ["new@mail.example"])
        #expect(parsed.references == ["old@mail.example", "new@mail.example"])
        #expect(parsed.ticketToken == 9)
        #expect(parsed.text == "Hello <Ana> & co.\n\nSee you.")
        let html = try #require(MIMEPart.parse(raw).leaves.last)
        #expect(html.mimeType == "text/html")
        #expect(html.text.contains("<p>Hello &lt;Ana&gt; &amp; co.</p>"))
    }

    /// A subject of one huge character (a letter and 600 combining accents) and control characters:
    /// every header line stays short, nothing raw leaks.
    @Test func noSubjectMakesALongOrRawHeaderLine() throws {
        let subject = "a" + String(repeating: "\u{301}", count: 600) + "\u{0}\u{7}x"
        let raw = try EmailMessage(from: "help@shop.example", to: "ana@example.com", subject: subject, text: "Hi", id: "s-1").rendered()
        let head = String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
        #expect(head.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 100 })
        #expect(!head.unicodeScalars.contains { $0.value < 32 && $0 != "\r" && $0 != "\n" })
        let ascii = try EmailMessage(from: "help@shop.example", to: "ana@example.com", subject: "Hi\u{0}\tthere", text: "Hi", id: "s-2").rendered()
        #expect(String(decoding: ascii, as: UTF8.self).contains("Subject: Hi there\r\n"))
    }

    @Test func anAutomaticReplySaysSo() throws {
        let automatic = EmailMessage(from: "help@shop.example", to: "ana@example.com", subject: "Hi", text: "Hi", id: "a-1", autoSubmitted: true)
        #expect(String(decoding: try automatic.rendered(), as: UTF8.self).contains("Auto-Submitted: auto-replied\r\n"))
    }

    @Test func aLongConversationKeepsItsFirstReference() {
        let newest = (1...20).reversed().map { "m\($0)@x.example" }
        #expect(MessageThread.capped(newest, first: "m0@x.example") == Array(newest.prefix(19)) + ["m0@x.example"])
        #expect(MessageThread.capped(Array(newest.prefix(5)), first: nil) == Array(newest.prefix(5)))
        #expect(MessageThread.capped(newest, first: "m1@x.example") == newest)
    }

    @Test func aMailWithoutHTMLOrConversationStaysOnePlainPart() throws {
        let raw = try EmailMessage(from: "news@shop.example", to: "ana@example.com", subject: "Hi", text: "Hi", id: "c-1").rendered()
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains("Content-Type: text/plain; charset=UTF-8\r\n") && !text.contains("multipart"))
        #expect(!text.contains("In-Reply-To") && !text.contains("References") && !text.contains("Auto-Submitted"))
    }
}
