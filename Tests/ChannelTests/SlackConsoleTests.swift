import ChannelKit
import Foundation
import PlatformStandIns
import SlackChannel
import Testing

/// A Slack fixture: `fixtures/slack/<name>.json` (raw body) and its expected reading.
struct SlackFixture: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { "slack/\(name)" }

    static var all: [SlackFixture] {
        let dir = FixtureCase.root.appendingPathComponent("slack")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }.sorted()
            .map { SlackFixture(name: String($0.dropLast(".json".count))) }
    }

    struct Expected: Decodable {
        struct Reply: Decodable {
            var eventId, channel, threadTs, user, text: String
        }
        struct Action: Decodable {
            var eventId, kind, channel, threadTs, user: String
            var ticketId: Int64
        }
        struct Inbound: Decodable {
            var urlVerification: String?
            var threadReply: Reply?
            var action: Action?
            var ignored: String?
        }
        var headers: [String: String]
        var inbound: Inbound?
        var error: String?
    }

    func load() throws -> (WebhookRequest, Expected) {
        let dir = FixtureCase.root.appendingPathComponent("slack")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: dir.appendingPathComponent("\(name).expected.json")))
        return (WebhookRequest(method: "POST", headers: expected.headers, body: try Data(contentsOf: dir.appendingPathComponent("\(name).json"))), expected)
    }

    var inbound: SlackInbound? {
        guard let i = try? load().1.inbound else { return nil }
        if let c = i.urlVerification { return .urlVerification(challenge: c) }
        if let r = i.threadReply { return .threadReply(SlackThreadReply(eventId: r.eventId, channel: r.channel, threadTs: r.threadTs, user: r.user, text: r.text)) }
        if let a = i.action, let kind = SlackAction.Kind(rawValue: a.kind) {
            return .action(SlackAction(eventId: a.eventId, kind: kind, ticketId: a.ticketId, channel: a.channel, threadTs: a.threadTs, user: a.user))
        }
        return i.ignored.map { .ignored(reason: $0) }
    }
}

@Suite struct SlackConsoleTests {
    static let sentAt = Date(timeIntervalSince1970: 1_700_000_100)

    func console(secret: String = "slack-test-signing-secret", apiBaseURL: String? = nil, agents: [String: String] = [:]) -> SlackConsole {
        SlackConsole(configuration: SlackConfiguration(
            id: "main", signingSecret: secret, botToken: "xoxb-test", channel: "C0SUPPORT", apiBaseURL: apiBaseURL, agents: agents))
    }

    @Test func fixturesExist() { #expect(SlackFixture.all.count >= 9) }

    @Test(arguments: SlackFixture.all)
    func verifiesAndParses(_ fixture: SlackFixture) throws {
        let (request, expected) = try fixture.load()
        try console().verify(request, now: Self.sentAt)
        if let error = expected.error {
            #expect(throws: WebhookError.malformed(error)) { try console().parse(request) }
        } else {
            #expect(try console().parse(request) == fixture.inbound)
        }
    }

    @Test(arguments: SlackFixture.all)
    func tamperedOrForeignIsRefused(_ fixture: SlackFixture) throws {
        let (request, _) = try fixture.load()
        #expect(throws: WebhookError.self) { try console(secret: "another-secret").verify(request, now: Self.sentAt) }
        var tampered = request
        tampered.body.append(UInt8(ascii: " "))
        #expect(throws: WebhookError.self) { try console().verify(tampered, now: Self.sentAt) }
    }

    @Test func staleTimestampsAreReplays() throws {
        let (request, _) = try SlackFixture(name: "thread-reply").load()
        try console().verify(request, now: Self.sentAt.addingTimeInterval(299))
        #expect(throws: WebhookError.unauthorized("X-Slack-Request-Timestamp is more than 5 minutes from now")) {
            try console().verify(request, now: Self.sentAt.addingTimeInterval(301))
        }
        #expect(throws: WebhookError.self) { try console().verify(request, now: Self.sentAt.addingTimeInterval(-301)) }
    }

    /// docs/platforms.md §9.
    @Test func slackVector() throws {
        let request = WebhookRequest(
            method: "POST",
            headers: [
                "X-Slack-Signature": "v0=e1524fe072f84960d88131b620797a02e0995bafb1c26a34bee3cb09499872cb", "X-Slack-Request-Timestamp": "1700000000",
            ],
            body: Data("token=x&team_id=T1&command=%2Fhelp".utf8))
        let console = SlackConsole(configuration: SlackConfiguration(id: "v", signingSecret: "8f742231b10e8888abcd99yyyzzz85a5", botToken: "x", channel: "C"))
        try console.verify(request, now: Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func postsTicketParentWithButtons() async throws {
        try await withStandIn(StandInPlatforms.slack()) { standIn, transport in
            let ts = try await console(apiBaseURL: standIn.baseURL)
                .postTicket(ticketId: 42, customer: "Ana", channel: "whatsapp", text: "Order status?", transport: transport)
            #expect(ts.hasPrefix("1700000000."))
            let request = try #require(standIn.requests.first)
            #expect(request.path == "/chat.postMessage")
            #expect(request.headers["authorization"] == "Bearer xoxb-test")
            #expect(request.text == #"{"blocks":[{"text":{"text":"*Ana* via Whatsapp — ticket #42\nOrder status?","type":"mrkdwn"},"type":"section"},{"elements":[{"action_id":"claim","style":"primary","text":{"text":"Claim","type":"plain_text"},"type":"button","value":"42"},{"action_id":"resolve","text":{"text":"Resolve","type":"plain_text"},"type":"button","value":"42"},{"action_id":"spam","style":"danger","text":{"text":"Spam","type":"plain_text"},"type":"button","value":"42"}],"type":"actions"}],"channel":"C0SUPPORT","metadata":{"event_payload":{"ticket_id":"42"},"event_type":"conversation_opened"},"text":"*Ana* via Whatsapp — ticket #42: Order status?","unfurl_links":false}"#)
        }
    }

    @Test func postsInThreadAndClassifiesErrors() async throws {
        try await withStandIn(StandInPlatforms.slack()) { standIn, transport in
            let console = console(apiBaseURL: standIn.baseURL)
            try await console.postInThread("1700000000.000100", text: "*Ana* (whatsapp): thanks", transport: transport)
            #expect(standIn.requests.first?.text == #"{"channel":"C0SUPPORT","text":"*Ana* (whatsapp): thanks","thread_ts":"1700000000.000100","unfurl_links":false}"#)
            standIn.script("/chat.postMessage", [
                .json(#"{"ok":false,"error":"channel_not_found"}"#), .json(#"{"ok":false,"error":"ratelimited"}"#, status: 429, headers: ["retry-after": "30"]),
                .json(#"{"ok":false,"error":"invalid_auth"}"#),
            ])
            let notFound = await sendError { try await console.postInThread("1", text: "x", transport: transport) }
            #expect(notFound == .permanent("slack_channel_not_found", "channel_not_found"))
            let limited = await sendError { try await console.postInThread("1", text: "x", transport: transport) }
            #expect(limited?.disposition == .retryable(after: .seconds(30)))
            let auth = await sendError { try await console.postInThread("1", text: "x", transport: transport) }
            #expect(auth?.code == "slack_invalid_auth")
        }
    }

    @Test func agentsComeFromConfigOrTheirProfile() async throws {
        try await withStandIn(StandInPlatforms.slack(users: ["U0BOB": ("Bob Ito", "bob@example.com")])) { standIn, transport in
            let console = console(apiBaseURL: standIn.baseURL, agents: ["U0AGENT": "Alice"])
            #expect(await console.agentName(for: "U0AGENT", transport: transport) == "Alice")
            #expect(standIn.requests.isEmpty)
            #expect(await console.agentName(for: "U0BOB", transport: transport) == "bob@example.com")
            #expect(await console.agentName(for: "U0NOBODY", transport: transport) == "Slack user U0NOBODY")
        }
    }
}
