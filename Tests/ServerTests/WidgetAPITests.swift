@testable import BridgeServer
import ChannelKit
import Foundation
import HummingbirdWSClient
import Logging
import NIOHTTP1
import Synchronization
import Testing
import WebchatChannel

/// The website widget's visitor API end to end (real HTTP on loopback, both databases): a visitor's
/// chat goes through ingest like a webhook, an agent's reply through the outbox, and the visitor
/// gets it over the WebSocket or by long-polling; only the visitor's own messages ever show.
@Suite struct WidgetAPITests {
    static let base = "/widget/v1/site"

    @Test func visitorChatsAndTheAgentsReplyComesBackByPolling() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            #expect(visitor.settings["name"] as? String == "Acme Shop")
            #expect(visitor.settings["colour"] as? String == "#0a7c5a")
            #expect((visitor.settings["greeting"] as? [String: String])?["ja"] == "こんにちは！")

            #expect(try await visitor.say("m-1", "Is the blue jacket in stock?").status == 202)
            // The widget retries a post it got no answer to: filed once.
            let again = try await visitor.say("m-1", "Is the blue jacket in stock?")
            #expect(again.status == 202)
            #expect(again.json["duplicate"] as? Bool == true)
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first)
            let ticketId = try #require(ticket["id"] as? Int)
            #expect(try await t.messages(ticket: ticketId).count == 1)

            let start = try #require(try await visitor.conversation()["seq"] as? Int)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/notes", #"{"text":"VIP, be quick"}"#).status == 201)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Yes, in every size."}"#).status == 202)
            var reply: [String: Any]?
            var after = start
            try await t.eventually("the reply, sent, on the visitor's feed") {
                let page = try await visitor.get("\(Self.base)/events?after=\(after)&wait=5").json
                after = page["next"] as? Int ?? after
                for event in page["events"] as? [[String: Any]] ?? [] { reply = event["message"] as? [String: Any] }
                return reply?["status"] as? String == "sent"
            }
            #expect(reply?["direction"] as? String == "out")
            #expect(reply?["text"] as? String == "Yes, in every size.")
            let ref = try #require(reply?["ref"] as? String)

            // The conversation so far: the visitor's message and the reply, never the note.
            let messages = try #require(try await visitor.conversation()["messages"] as? [[String: Any]])
            #expect(messages.map { $0["text"] as? String } == ["Is the blue jacket in stock?", "Yes, in every size."])
            #expect(messages.map { $0["direction"] as? String } == ["in", "out"])

            // The widget reports the reply shown, then read: the agents see it.
            #expect(try await visitor.post(#"{"type":"receipt","id":"r-1","messageId":"\#(ref)","status":"read"}"#).status == 202)
            try await t.eventually("read in the inbox") {
                try await t.messages(ticket: ticketId).last?["status"] as? String == "read"
            }

            // Another visitor sees none of it, and can say nothing of the first one's messages.
            let stranger = try await Visitor.start(t)
            #expect((try await stranger.conversation()["messages"] as? [[String: Any]])?.isEmpty == true)
            let strangers = try await stranger.get("\(Self.base)/events?after=\(start)").json
            #expect((strangers["events"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func theReplyArrivesOnTheVisitorsWebSocket() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "Hello?").status == 202)
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            let socket = try await VisitorSocket.connect(t, token: visitor.token)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Hi, Mika here."}"#).status == 202)
            let event = try await socket.next("message") { ($0["message"] as? [String: Any])?["direction"] as? String == "out" }
            #expect((event["message"] as? [String: Any])?["text"] as? String == "Hi, Mika here.")
            #expect(event["seq"] as? Int != nil)
            await socket.close()

            // Reconnecting from before the reply replays it, in order, from the log.
            let before = try #require(try await visitor.conversation()["seq"] as? Int) - 10
            let again = try await VisitorSocket.connect(t, token: visitor.token, after: max(0, before))
            _ = try await again.next("message") { ($0["message"] as? [String: Any])?["text"] as? String == "Hi, Mika here." }
            await again.close()
        }
    }

    /// Each sees the other typing: the agent's `typing` on the inbox's live feed reaches the
    /// visitor's socket; the visitor's report shows on the agents' feed as presence on the chat.
    @Test func typingShowsBothWays() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "Hello?").status == 202)
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            let agent = try await t.addAgent("Mika")
            let live = try await LiveClient.connect(t, token: agent.token)
            let socket = try await VisitorSocket.connect(t, token: visitor.token)

            try await live.send(#"{"type":"typing","ticketId":\#(ticketId)}"#)
            _ = try await socket.next("typing") { $0["typing"] as? Bool == true }
            let poll = try await visitor.get("\(Self.base)/events?after=0&wait=0").json
            #expect(poll["typing"] as? Bool == true)

            try await socket.send(#"{"type":"typing"}"#)
            _ = try await live.next("presence") { message in
                message["ticketId"] as? Int == ticketId
                    && (message["agents"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "Visitor" && $0["state"] as? String == "typing" }
            }
            // By the polling route too; a visitor with no chat yet has nobody to show it to.
            #expect(try await visitor.request(.POST, "\(Self.base)/typing").status == 204)
            #expect(try await Visitor.start(t).request(.POST, "\(Self.base)/typing").status == 204)
            await socket.close()
            await live.close()
        }
    }

    @Test func theVisitorRatesTheChatAsTheTicketsSatisfaction() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            let early = try await visitor.request(.POST, "\(Self.base)/rating", #"{"rating":"good"}"#)
            #expect(early.status == 422)
            #expect(early.errorCode == "nothing_to_rate")
            #expect(try await visitor.say("m-1", "Thanks, all sorted").status == 202)
            #expect(try await visitor.request(.POST, "\(Self.base)/rating", #"{"rating":"great"}"#).status == 400)
            #expect(try await visitor.request(.POST, "\(Self.base)/rating", #"{"rating":"good"}"#).status == 200)
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first)
            let contactId = try #require((ticket["contact"] as? [String: Any])?["id"] as? Int)
            let ratings = try #require(try await t.get("/api/v1/contacts/\(contactId)").json["ratings"] as? [[String: Any]])
            #expect(ratings.map { $0["rating"] as? String } == ["good"])
            #expect(ratings.first?["ticketId"] as? Int == ticket["id"] as? Int)
        }
    }

    /// Nobody online: the session says so (with the hours), and an offline message becomes a
    /// ticket whose contact is the one that has the address already (a customer known by e-mail).
    @Test func anOfflineMessageBecomesATicketOfTheContactWithThatAddress() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let hours = #"{"timeZone":"Asia/Tokyo","weekly":{"mon":[["09:00","18:00"]]}}"#
            #expect(try await t.request(.PUT, "/api/v1/business-hours", body: Data(hours.utf8), headers: [("Content-Type", "application/json")]).status == 200)
            let visitor = try await Visitor.start(t)
            #expect(visitor.settings["online"] as? Bool == false)
            #expect((visitor.settings["hours"] as? [String: Any])?["timeZone"] as? String == "Asia/Tokyo")

            let known = try await t.customerWrites(Payloads.lineUser, "Hello from LINE")
            let contactId = try #require((try await t.get("/api/v1/tickets/\(known)").json["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.patchJSON("/api/v1/contacts/\(contactId)", #"{"email":"Ana@Example.com"}"#).status == 200)

            let bad = try await visitor.request(.POST, "\(Self.base)/offline", #"{"id":"o-1","name":"Ana","email":"not an address","text":"Call me"}"#)
            #expect(bad.status == 400)
            #expect(bad.errorCode == "invalid_email")
            let left = try await visitor.request(
                .POST, "\(Self.base)/offline", #"{"id":"o-1","name":"Ana Lima","email":"ana@example.com","text":"Please call me back about my order"}"#)
            #expect(left.status == 202)
            // Anyone can type anyone's address: nothing is merged into the customer who has it, and
            // their details stay theirs; a note tells the agents, who link the two if it is one person.
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first)
            let visitorContact = try #require((ticket["contact"] as? [String: Any])?["id"] as? Int)
            #expect(visitorContact != contactId)
            #expect((ticket["contact"] as? [String: Any])?["displayName"] as? String == "Ana Lima")
            let customer = try await t.get("/api/v1/contacts/\(contactId)").json
            #expect(Set((customer["identities"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }) == ["line"])
            #expect(customer["email"] as? String == "Ana@Example.com")
            let notes = try await t.get("/api/v1/tickets/\(ticket["id"] as? Int ?? 0)/notes").items
            #expect(notes.contains { ($0["text"] as? String)?.contains("contact #\(contactId)") == true }, "\(notes)")
            // A second address from the same visitor changes no one else either.
            #expect(try await visitor.request(
                .POST, "\(Self.base)/offline", #"{"id":"o-2","name":"Other","email":"kai.other@example.com","text":"me again"}"#).status == 202)
            #expect(try await t.get("/api/v1/contacts/\(contactId)").json["email"] as? String == "Ana@Example.com")

            // A visitor whose address nobody has: their own contact gets the name and address.
            let stranger = try await Visitor.start(t)
            #expect(try await stranger.request(
                .POST, "\(Self.base)/offline", #"{"id":"o-1","name":"Kai","email":"kai@example.com","text":"Hello?"}"#).status == 202)
            let contacts = try await t.get("/api/v1/tickets?channel=webchat").items.compactMap { $0["contact"] as? [String: Any] }
            #expect(contacts.contains { $0["displayName"] as? String == "Kai" }, "\(contacts)")
        }
    }

    /// The visitor API's other calls are limited per visitor, and a visitor holds at most two
    /// polls or sockets open; the platform webhook route does not take widget posts (it would
    /// skip every widget limit).
    @Test func aVisitorCannotFloodTheOtherCallsNorPostThroughTheWebhookRoute() async throws {
        try await TestBridge.with(configure: { config in
            config.widgetLimits.requestsPerVisitor = RateLimit(perSecond: 0.001, burst: 3)
        }) { t in
            let visitor = try await Visitor.start(t)
            for _ in 0..<3 { #expect(try await visitor.request(.GET, "\(Self.base)/messages").status == 200) }
            let refused = try await visitor.request(.GET, "\(Self.base)/messages")
            #expect(refused.status == 429)
            #expect(refused.errorCode == "rate_limited")
            let webhook = try await t.request(
                .POST, "/webhooks/webchat/site", body: Data(#"{"id":"w-1","text":"around the limits"}"#.utf8),
                headers: [("Content-Type", "application/json"), ("X-Visitor-Token", visitor.token)])
            #expect(webhook.status == 404)
            #expect(try await t.get("/api/v1/tickets?channel=webchat").items.isEmpty)
        }
    }

    /// While nobody has the chat, the visitor sees its place in the queue and the expected wait
    /// (the queue notice's figures), live and by polling; once an agent has it, no place.
    @Test func theVisitorSeesTheirPlaceInTheQueue() async throws {
        try await TestBridge.with { t in
            let login = try await t.addAgent("Ann", maxTickets: 1, availability: "offline")
            let first = try await Visitor.start(t)
            let second = try await Visitor.start(t)
            #expect(try await first.say("m-1", "first").status == 202)
            #expect(try await second.say("m-1", "second").status == 202)
            try await t.eventually("both chats queued") { try await t.api.queue().count == 2 }
            let socket = try await VisitorSocket.connect(t, token: second.token)
            let place = try await socket.next("queue") { ($0["queue"] as? [String: Any])?["position"] as? Int == 2 }
            #expect((place["queue"] as? [String: Any])?["waitMinutes"] as? Int == 10)
            let polled = try await first.get("\(Self.base)/events?wait=0").json
            #expect((polled["queue"] as? [String: Any])?["position"] as? Int == 1)

            _ = try await t.api(as: login).updateAgent(login.id, .init(availability: "online"))
            _ = try await socket.next("queue") { ($0["queue"] as? [String: Any])?["position"] as? Int == 1 }
            try await t.eventually("the first chat handed out") {
                try await first.get("\(Self.base)/events?wait=0").json["queue"] == nil
            }
            await socket.close()
        }
    }

    @Test func aSessionNeedsAnAllowedPageAndTheWidgetsOwnOrigin() async throws {
        try await TestBridge.with { t in
            let refused = try await t.request(
                .POST, "\(Self.base)/session", body: Data(#"{"page":"https://evil.example"}"#.utf8), headers: [("Content-Type", "application/json")], token: nil)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "origin_not_allowed")
            let crossSite = try await t.request(
                .POST, "\(Self.base)/session", body: Data(#"{"page":"https://shop.example"}"#.utf8),
                headers: [("Content-Type", "application/json"), ("Origin", "https://evil.example")], token: nil)
            #expect(crossSite.status == 403)
            #expect(try await t.request(.POST, "/widget/v1/nope/session", body: Data(#"{"page":"https://shop.example"}"#.utf8), token: nil).status == 404)

            // A valid token resumes the same visitor; a forged one starts a new one.
            let visitor = try await Visitor.start(t)
            let resumed = try await Visitor.start(t, token: visitor.token)
            #expect(resumed.visitorId == visitor.visitorId)
            #expect(resumed.new == false)
            let forged = try await Visitor.start(t, token: visitor.visitorId + ".AAAA")
            #expect(forged.visitorId != visitor.visitorId)

            // Without a valid token, nothing is read or filed.
            let stranger = Visitor(t: t, token: "nope", visitorId: "", new: true, settings: [:])
            #expect(try await stranger.say("m-1", "hi").status == 401)
            #expect(try await stranger.get("\(Self.base)/messages").status == 401)
            #expect(try await stranger.get("\(Self.base)/events").status == 401)
            #expect(try await t.get("/api/v1/tickets?channel=webchat").items.isEmpty)
        }
    }

    @Test func badPostsAreRefusedWithWhyAndFileNothing() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            let long = try await visitor.say("m-1", String(repeating: "あ", count: 4001))
            #expect(long.status == 400)
            #expect(long.errorCode == "invalid_message")
            #expect(long.errorMessage == "text is longer than 4000 characters")
            #expect(try await visitor.post(String(repeating: "x", count: 40 << 10)).status == 413)
            #expect(try await visitor.post("not json").errorCode == "invalid_message")
            #expect(try await visitor.get("\(Self.base)/events?wait=99").errorCode == "invalid_wait")
            #expect(try await t.get("/api/v1/tickets?channel=webchat").items.isEmpty)
        }
    }

    @Test func chatsAndMessagesAreRateLimitedPerVisitorAndAddress() async throws {
        try await TestBridge.with(configure: {
            $0.widgetLimits = .init(
                sessionsPerAddress: RateLimit(perSecond: 0.001, burst: 3), messagesPerVisitor: RateLimit(perSecond: 0.001, burst: 2),
                messagesPerAddress: RateLimit(perSecond: 0.001, burst: 3))
        }) { t in
            let first = try await Visitor.start(t)
            #expect(try await first.say("m-1", "one").status == 202)
            #expect(try await first.say("m-2", "two").status == 202)
            let limited = try await first.say("m-3", "three")
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            #expect(Int(limited.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
            // A second visitor from the same address has its own bucket, until the address's is empty.
            let second = try await Visitor.start(t)
            #expect(try await second.say("m-1", "hello").status == 202)
            #expect(try await second.say("m-2", "hello again").status == 429)
            // New chats: three per address, then refused; resuming one is not a new chat.
            _ = try await Visitor.start(t)
            let fourth = try await t.request(
                .POST, "\(Self.base)/session", body: Data(#"{"page":"https://shop.example"}"#.utf8), headers: [("Content-Type", "application/json")], token: nil)
            #expect(fourth.status == 429)
            #expect(try await Visitor.start(t, token: first.token).visitorId == first.visitorId)
            #expect((try await first.conversation()["messages"] as? [[String: Any]])?.count == 2)
            #expect((try await second.conversation()["messages"] as? [[String: Any]])?.count == 1)
        }
    }
}

/// A website visitor calling the visitor API as the widget page does.
struct Visitor {
    let t: TestBridge
    let token: String
    let visitorId: String
    let new: Bool
    let settings: [String: Any]

    static func start(_ t: TestBridge, token: String? = nil, page: String = TestBridge.webchatOrigin) async throws -> Visitor {
        let body = try JSONSerialization.data(withJSONObject: ["page": page].merging(token.map { ["token": $0] } ?? [:]) { $1 })
        let reply = try await t.request(.POST, "\(WidgetAPITests.base)/session", body: body, headers: [("Content-Type", "application/json")], token: nil)
        guard reply.status == 200, let token = reply.json["token"] as? String, let id = reply.json["visitorId"] as? String else {
            throw TestBridge.TimeoutError(what: "a widget session; got \(reply.status) \(reply.text)")
        }
        return Visitor(t: t, token: token, visitorId: id, new: reply.json["new"] as? Bool ?? true, settings: reply.json["settings"] as? [String: Any] ?? [:])
    }

    func post(_ json: String) async throws -> TestBridge.Reply {
        try await t.request(
            .POST, "\(WidgetAPITests.base)/messages", body: Data(json.utf8), headers: [("Content-Type", "application/json"), ("X-Visitor-Token", token)],
            token: nil)
    }

    func say(_ id: String, _ text: String) async throws -> TestBridge.Reply {
        let body = try JSONSerialization.data(withJSONObject: ["id": id, "text": text])
        return try await post(String(decoding: body, as: UTF8.self))
    }

    func request(_ method: HTTPMethod, _ path: String, _ json: String? = nil) async throws -> TestBridge.Reply {
        try await t.request(
            method, path, body: json.map { Data($0.utf8) }, headers: [("Content-Type", "application/json"), ("X-Visitor-Token", token)], token: nil)
    }

    func get(_ path: String) async throws -> TestBridge.Reply {
        try await t.request(.GET, path, headers: [("X-Visitor-Token", token)], token: nil)
    }

    func conversation() async throws -> [String: Any] { try await get("\(WidgetAPITests.base)/messages").json }
}

/// The visitor's live socket, `/widget/v1/{accountId}/live`: the agents' `LiveClient` on the widget's path.
enum VisitorSocket {
    static func connect(_ t: TestBridge, token: String, after: Int? = nil) async throws -> LiveClient {
        try await LiveClient.connect(t, path: "\(WidgetAPITests.base)/live", token: token, after: after)
    }
}
