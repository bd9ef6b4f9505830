@testable import BridgeServer
import ChannelKit
import EmailChannel
import Foundation
import Testing

/// The e-mail channel against a real Dovecot and a real SMTP server: mail delivered to the support
/// mailbox (IMAP APPEND) becomes tickets; machine mail opens nothing; IDLE delivers without waiting
/// for a poll; an agent's reply leaves through the relay threaded into the customer's conversation,
/// and the customer's answer to it comes back into the same ticket.
@Suite struct EmailEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/email")

    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent("\(name).eml")) }

    /// The support account on `server`, polling only every three hours: whatever arrives sooner
    /// arrived by IDLE (or by the first round at start).
    static func support(_ server: DovecotServer) -> (inout BridgeConfig) -> Void {
        { config in
            let settings = server.settings()
            config.channels.append(.email(EmailConfiguration(
                id: "support", address: "help@shop.example", name: "Shop Support",
                imap: EmailConfiguration.IMAP(
                    url: settings.url, username: settings.username, password: settings.password, caFile: settings.caFile,
                    pollInterval: .seconds(3 * 3600)))))
        }
    }

    @Test func mailBecomesTicketsAndMachineMailOpensNothing() async throws {
        let server = try DovecotServer()
        try await TestBridge.with(configure: Self.support(server)) { t in
            // Received two hours ago (while the bridge was down, say): the message keeps that time.
            let received = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 7200).rounded(.down))
            try server.deliver(try Self.fixture("plain"), receivedAt: received)
            var tickets: [[String: Any]] = []
            try await t.eventually("the mail's ticket", timeout: .seconds(180)) {
                tickets = try await t.get("/api/v1/tickets?channel=email").items
                return tickets.count == 1
            }
            let first = try #require(tickets.first?["id"] as? Int)
            let messages = try await t.messages(ticket: first)
            #expect(messages.count == 1)
            #expect(try await t.api.messages(Int64(first)).first?.createdAt == received)
            #expect(messages.first?["text"] as? String == "Where is my order?\n\nHello,\n\nI ordered a lamp last week and it has not arrived.\nOrder 1234.\n\nAna")

            // The customer's answer (References: the first mail's Message-ID) files into the same
            // ticket, reopening it.
            #expect(try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"closed"}"#).status == 200)
            try server.deliver(try Self.fixture("quoted-reply"))
            try await t.eventually("the answer in the first ticket", timeout: .seconds(180)) { try await t.messages(ticket: first).count == 2 }
            #expect(try await t.messages(ticket: first).last?["text"] as? String == "Great, thank you! I will wait for the courier.")
            #expect(try await t.get("/api/v1/tickets/\(first)").json["status"] as? String == "open")

            // The reader now idles (three hours between polls): an auto-reply, bulk mail and a
            // bounce arrive by IDLE and open nothing; the mail after them, in UID order, proves
            // they were read.
            for name in ["auto-reply", "precedence-bulk", "dsn-bounce", "iso-2022-jp"] { try server.deliver(try Self.fixture(name)) }
            try await t.eventually("the Japanese mail's ticket", timeout: .seconds(180)) { try await t.get("/api/v1/tickets?channel=email").items.count >= 2 }
            let all = try await t.get("/api/v1/tickets?channel=email").items
            #expect(all.count == 2)
            let japanese = try #require(all.first { $0["id"] as? Int != first }?["id"] as? Int)
            #expect(try await t.messages(ticket: japanese).first?["text"] as? String == "注文について\n\nお世話になっております。\n先日注文した商品がまだ届いていません。\n確認をお願いします。\n\n山田")

            // The same mail delivered again (a re-fetch) files nothing new.
            try server.deliver(try Self.fixture("plain"))
            try server.deliver(try Self.fixture("html-only"))
            try await t.eventually("the HTML mail's ticket", timeout: .seconds(180)) { try await t.get("/api/v1/tickets?channel=email").items.count >= 3 }
            #expect(try await t.get("/api/v1/tickets?channel=email").items.count == 3)
            #expect(try await t.messages(ticket: first).count == 2)
        }
    }

    @Test func theAgentsReplyIsThreadedAndTheAnswerLandsInTheSameTicket() async throws {
        let server = try DovecotServer()
        let relay = try SMTPTestServer()
        defer { relay.stop() }
        try await TestBridge.with(configure: { config in
            Self.support(server)(&config)
            config.email = relay.settings(from: "Shop News <news@shop.example>")
        }) { t in
            try server.deliver(try Self.fixture("plain"))
            var ticket: Int64 = 0
            try await t.eventually("the mail's ticket", timeout: .seconds(180)) {
                ticket = Int64(try await t.get("/api/v1/tickets?channel=email").items.first?["id"] as? Int ?? 0)
                return ticket != 0
            }
            let reply = try await t.api.reply(ticket, .init(text: "Hello Ana,\n\nYour lamp left our warehouse today.\n\nKen <Shop Support>"))
            var sent: [SMTPTestServer.Received] = []
            try await t.eventually("the reply at the relay", timeout: .seconds(60)) {
                sent = try relay.received()
                return !sent.isEmpty
            }
            #expect(sent.count == 1)
            let mail = try #require(sent.first)
            // From the support mailbox (not the relay's campaign sender), to the customer.
            #expect(mail.from == "help@shop.example" && mail.to == ["ana.lima@example.com"])
            #expect(mail.headers["from"] == #""Shop Support" <help@shop.example>"#)
            #expect(mail.headers["subject"] == "Re: Where is my order? [#\(ticket)]")
            #expect(mail.headers["in-reply-to"] == "<CAF1234.plain@mail.example.com>")
            #expect(mail.headers["references"] == "<CAF1234.plain@mail.example.com>")
            let messageId = try #require(mail.headers["message-id"])
            #expect(messageId.hasPrefix("<") && messageId.hasSuffix("@shop.example>"))
            // Plain text and the same words as HTML (escaped), as a mail program expects.
            #expect(mail.headers["content-type"]?.hasPrefix("multipart/alternative;") == true)
            let parts = MIMEPart.parse(mail.raw).leaves
            #expect(parts.map(\.mimeType) == ["text/plain", "text/html"])
            #expect(parts.first?.text == "Hello Ana,\r\n\r\nYour lamp left our warehouse today.\r\n\r\nKen <Shop Support>")
            #expect(parts.last?.text.contains("<p>Ken &lt;Shop Support&gt;</p>") == true)
            // The message records the Message-ID, which the customer's answer names.
            try await t.eventually("the reply sent") { try await t.api.messages(ticket).first { $0.id == reply.id }?.status == "sent" }
            let platformId = try await t.api.messages(ticket).first { $0.id == reply.id }?.platformMessageId
            #expect(platformId.map { "<\($0)>" } == messageId)

            // The customer answers from a mail program: In-Reply-To our reply, the subject with its
            // token. It lands in the same ticket, which it reopens.
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved"}"#).status == 200)
            try server.deliver(Self.answer(id: "CAF9.answer@mail.example.com", inReplyTo: messageId, subject: "Re: Re: Where is my order? [#\(ticket)]"))
            try await t.eventually("the answer in the ticket", timeout: .seconds(180)) { try await t.api.messages(ticket).count == 3 }
            let answer = try await t.api.messages(ticket).last
            #expect(answer?.text == "It came, thank you!", "\(String(describing: answer))")
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "open")
            // An answer from a program that keeps no references still finds it by the subject's token.
            try server.deliver(Self.answer(id: "CAF10.plain@mail.example.com", inReplyTo: nil, subject: "Re: Where is my order? [#\(ticket)]"))
            try await t.eventually("the token's answer in the ticket", timeout: .seconds(180)) { try await t.api.messages(ticket).count == 4 }
            #expect(try await t.get("/api/v1/tickets?channel=email").items.count == 1)

            // Someone Ana copied answers the thread (reply-all): a ticket of their own. Taking over
            // Ana's would send the agent's next reply to them.
            try server.deliver(Self.answer(
                id: "bob.1@mail.example.com", inReplyTo: messageId, subject: "Re: Where is my order? [#\(ticket)]", from: "Bob <bob@example.com>"))
            try await t.eventually("Bob's ticket", timeout: .seconds(180)) { try await t.get("/api/v1/tickets?channel=email").items.count == 2 }
            #expect(try await t.api.messages(ticket).count == 4)

            // The next reply answers the customer's newest mail and carries the whole conversation.
            _ = try await t.api.reply(ticket, .init(text: "Glad it arrived."))
            try await t.eventually("the second reply at the relay", timeout: .seconds(60)) { try relay.received().count == 2 }
            let second = try #require(try relay.received().last)
            #expect(second.headers["in-reply-to"] == "<CAF10.plain@mail.example.com>")
            #expect(second.headers["references"]?.split(separator: " ") == [
                "<CAF1234.plain@mail.example.com>", Substring(messageId), "<CAF9.answer@mail.example.com>", "<CAF10.plain@mail.example.com>",
            ])
        }
    }

    /// Mail from an address a contact has (set by an agent here) is that customer's: one contact for
    /// their LINE chat and their e-mail. A new sender's contact gets the address.
    @Test func mailFromAContactsAddressJoinsThatContact() async throws {
        let server = try DovecotServer()
        try await TestBridge.with(standIns: [.line], configure: Self.support(server)) { t in
            let known = try await t.customerWrites(Payloads.lineUser, "Hello from LINE")
            let customer = try #require((try await t.get("/api/v1/tickets/\(known)").json["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.patchJSON("/api/v1/contacts/\(customer)", #"{"email":"ana.lima@example.com"}"#).status == 200)
            try server.deliver(try Self.fixture("plain"))
            try server.deliver(Self.answer(id: "new.1@mail.example.com", inReplyTo: nil, subject: "Hello", from: "Kai <Kai@Example.org>"))
            var mail: [[String: Any]] = []
            try await t.eventually("both mails' tickets", timeout: .seconds(180)) {
                mail = try await t.get("/api/v1/tickets?channel=email").items
                return mail.count == 2
            }
            let contacts = mail.compactMap { ($0["contact"] as? [String: Any])?["id"] as? Int }
            #expect(contacts.contains(customer))
            let joined = try await t.get("/api/v1/contacts/\(customer)").json
            #expect(Set((joined["identities"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }) == ["line", "email"])
            let kai = try #require(contacts.first { $0 != customer })
            #expect(try await t.get("/api/v1/contacts/\(kai)").json["email"] as? String == "kai@example.org")
        }
    }

    /// The customer's answer to our reply, as Ana's mail program writes it (dated now: a ticket's
    /// messages are in the order they were written).
    static func answer(id: String, inReplyTo: String?, subject: String, from: String = "Ana Lima <Ana.Lima@Example.com>") -> Data {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let date = formatter.string(from: Date())
        var headers = [
            "From: \(from)", "To: Shop Support <help@shop.example>", "Subject: \(subject)",
            "Date: \(date)", "Message-ID: <\(id)>",
        ]
        if let inReplyTo { headers += ["In-Reply-To: \(inReplyTo)", "References: <CAF1234.plain@mail.example.com> \(inReplyTo)"] }
        headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8"]
        let body = id.hasPrefix("CAF9") ? "It came, thank you!\r\n\r\nOn Wed, Shop Support wrote:\r\n> Hello Ana," : "One more question."
        return Data((headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n").utf8)
    }
}
