@testable import BridgeServer
import ChannelKit
import Foundation
import Testing
import Yams

/// The widget's transcript by e-mail, end to end (real HTTP on loopback, both databases, the real
/// SMTP test server): the visitor's conversation, and only what they saw, arrives in their
/// language; an address that is not one, no relay, a relay failure and too many asks are refused.
@Suite struct WidgetTranscriptTests {
    static let base = WidgetAPITests.base

    func ask(_ visitor: Visitor, _ email: String, _ language: String = "en") async throws -> TestBridge.Reply {
        try await visitor.request(.POST, "\(Self.base)/transcript", #"{"email":"\#(email)","language":"\#(language)"}"#)
    }

    @Test func theTranscriptArrivesWithExactlyWhatTheVisitorSaw() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(configure: { $0.email = server.settings(from: "Acme Shop <support@example.com>") }) { t in
            let visitor = try await Visitor.start(t)
            #expect(visitor.settings["transcript"] as? Bool == true)
            // Before anything was said there is nothing to send, and nothing is sent.
            let early = try await ask(visitor, "kim@example.com")
            #expect(early.status == 422 && early.errorCode == "nothing_to_send")

            #expect(try await visitor.say("m-1", "Is the blue jacket in stock?\nSize M.").status == 202)
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/notes", #"{"text":"INTERNAL: VIP, be quick"}"#).status == 201)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Yes, in every size."}"#).status == 202)
            let upload = try await UploadTests.upload(t, UploadTests.png, type: "image/png")
            let url = try #require(upload.json["url"] as? String)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"image":{"url":"\#(url)"},"text":"The M one"}"#).status == 202)
            // Another visitor's chat is never in it.
            #expect(try await Visitor.start(t).say("m-1", "SECRET of another visitor").status == 202)
            try await t.eventually("both replies sent") {
                let messages = try await visitor.conversation()["messages"] as? [[String: Any]] ?? []
                return messages.filter { $0["status"] as? String == "sent" }.count == 2
            }

            let sent = try await ask(visitor, "Kim@Example.com")
            #expect(sent.status == 202, "\(sent.text)")
            let mail = try server.received()
            try #require(mail.count == 1)
            #expect(mail[0].to == ["Kim@Example.com"])
            #expect(mail[0].from == "support@example.com")
            #expect(SMTPTestServer.decodeWords(mail[0].headers["subject"] ?? "") == "Your conversation with Acme Shop")
            #expect(mail[0].headers["content-type"] == "text/plain; charset=UTF-8")
            let lines = mail[0].body.components(separatedBy: "\r\n")
            #expect(lines.first == "Your conversation with Acme Shop (times in UTC):")
            let said = lines.filter { $0.hasPrefix("    ") }.map { $0.dropFirst(4) }
            #expect(said == ["Is the blue jacket in stock?", "Size M.", "Yes, in every size.", "[image] The M one"])
            #expect(lines.filter { $0.hasPrefix("[") }.map { $0.split(separator: "]").last.map(String.init) } == [" You:", " Acme Shop:", " Acme Shop:"])
            #expect(!mail[0].body.contains("INTERNAL") && !mail[0].body.contains("SECRET"))

            // In Japanese when the widget is.
            #expect(try await ask(visitor, "kim@example.com", "ja").status == 202)
            let ja = try #require(try server.received().last)
            #expect(SMTPTestServer.decodeWords(ja.headers["subject"] ?? "") == "Acme Shopとのチャットの記録")
            #expect(ja.body.contains("] あなた:\r\n    Is the blue jacket in stock?"))
        }
    }

    @Test func badAddressesAndTooManyAsksAreRefusedAndSendNothing() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(configure: { $0.email = server.settings() }) { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "Hello").status == 202)
            for bad in ["not-an-address", "a@b", "kim@example.com, eve@example.com", "Eve <eve@example.com>", "kim@example.com\\r\\nBcc: eve@example.com", ""] {
                let refused = try await ask(visitor, bad)
                #expect(refused.status == 400 && refused.errorCode == "invalid_email", "\(bad): \(refused.text)")
            }
            #expect(try await visitor.request(.POST, "\(Self.base)/transcript", #"{"email":"kim@example.com","language":"fr"}"#).status == 400)
            let stranger = Visitor(t: t, token: "nope", visitorId: "", new: true, settings: [:])
            #expect(try await ask(stranger, "kim@example.com").status == 401)
            #expect(try server.received().isEmpty)

            // Three an hour for one visitor.
            for _ in 0..<3 { #expect(try await ask(visitor, "kim@example.com").status == 202) }
            let limited = try await ask(visitor, "other@example.com")
            #expect(limited.status == 429 && limited.errorCode == "rate_limited")
            #expect(Int(limited.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
            // Three an hour to one address, whichever visitors ask (the address cannot be flooded).
            let second = try await Visitor.start(t)
            #expect(try await second.say("m-1", "Hi").status == 202)
            #expect(try await ask(second, "KIM@example.com").status == 429)
            #expect(try await ask(second, "lee@example.com").status == 202)
            #expect(try server.received().count == 4)
        }
    }

    /// Every visitor and address together: the account's mail is capped (transcripts and
    /// confirmation codes share it), so many strangers cannot make the relay send their text.
    @Test func theAccountsVisitorMailIsCappedWhoeverAsks() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(configure: {
            $0.email = server.settings()
            $0.widgetLimits.mailsPerAccount = RateLimit(perSecond: 0.001, burst: 3)
        }) { t in
            for n in 0..<3 {
                let visitor = try await Visitor.start(t)
                #expect(try await visitor.say("m-1", "Hello").status == 202)
                #expect(try await ask(visitor, "kim\(n)@example.com").status == 202)
            }
            let fourth = try await Visitor.start(t)
            #expect(try await fourth.say("m-1", "Hello").status == 202)
            #expect(try await ask(fourth, "kim9@example.com").status == 429)
            let offline = try await fourth.request(
                .POST, "\(Self.base)/offline", #"{"id":"o-1","name":"Kim","email":"kim9@example.com","text":"hi"}"#)
            #expect(offline.status == 202 && offline.json["confirmationSent"] as? Bool == false)
            #expect(try server.received().count == 3)
        }
    }

    /// The transcript's limits guard someone else's mailbox and are counted for the whole cluster:
    /// when their ledger cannot be reached (here PostgreSQL refuses its writes) the ask is refused
    /// with 503 `limits_unavailable` and nothing is sent, rather than let through unchecked.
    @Test(.enabled(if: TestDatabase.isPostgres)) func anUnreachableLedgerRefusesTheAskAndSendsNothing() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(configure: { $0.email = server.settings() }) { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "Hello").status == 202)
            try await t.whileRefusingWrites(to: "rate_limit_buckets") {
                let refused = try await ask(visitor, "kim@example.com")
                #expect(refused.status == 503 && refused.errorCode == "limits_unavailable", "\(refused.text)")
                #expect(Int(refused.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
                #expect(try server.received().isEmpty)
            }
            #expect(try await ask(visitor, "kim@example.com").status == 202)
            #expect(try server.received().map(\.to) == [["kim@example.com"]])
        }
    }

    /// What the server takes as an address is what the document's pattern says (schemathesis
    /// sends what the pattern allows, and a valid request is never 400).
    @Test func theAddressCheckIsTheDocumentsPattern() throws {
        let document = try #require(try Yams.load(yaml: try OpenAPIDocument.text()) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        let post = try #require((paths["/widget/v1/{accountId}/transcript"] as? [String: Any])?["post"] as? [String: Any])
        let body = try #require(((post["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])
        let email = try #require(((body["schema"] as? [String: Any])?["properties"] as? [String: Any])?["email"] as? [String: Any])
        let pattern = try NSRegularExpression(pattern: try #require(email["pattern"] as? String))
        for sample in [
            "kim@example.com", "a.b+c@mail.example.co.jp", "o'neil@x.io", ".a@b.c", "a@b", "Eve <e@x.com>", "k@x.com,e@y.com", "ü@b.de",
            "a(b)@x.com", "a@b..c", "a@b.c.", "a b@c.d", "a@b@c.d", "a\\b@c.d", "a;b@c.d", "x@[1.2.3.4]", "\"q\"@x.io",
        ] {
            let documented = pattern.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil
            #expect(WidgetController.isPlainAddress(sample) == documented, "\(sample)")
        }
    }

    @Test func withoutARelayTheButtonIsHiddenAndTheAskIsRefused() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            #expect(visitor.settings["transcript"] as? Bool == false)
            #expect(try await visitor.say("m-1", "Hello").status == 202)
            let refused = try await ask(visitor, "kim@example.com")
            #expect(refused.status == 503 && refused.errorCode == "mail_unavailable", "\(refused.text)")
        }
    }

    @Test func aRelayFailureIsAnErrorTheVisitorCanRetry() async throws {
        let server = try SMTPTestServer(reject: ["gone@example.com"])
        defer { server.stop() }
        try await TestBridge.with(configure: { $0.email = server.settings() }) { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "Hello").status == 202)
            let failed = try await ask(visitor, "gone@example.com")
            #expect(failed.status == 502 && failed.errorCode == "mail_not_sent", "\(failed.text)")
            #expect(try await ask(visitor, "kim@example.com").status == 202)
            #expect(try server.received().map(\.to) == [["kim@example.com"]])
        }
    }
}
