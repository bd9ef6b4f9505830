import AsyncHTTPClient
import TestSupport
@testable import BridgeServer
import ChannelKit
import Foundation
import LINEChannel
import MessengerChannel
import SMSChannel
import SlackChannel
@testable import WeChatChannel
import Logging
import NIOCore
import NIOHTTP1
import PlatformStandIns
import PostgresNIO
import PostgresStore
import Testing
import UniversalInbox
import WhatsAppChannel
import WebchatChannel

/// A bridge on a loopback port with a fresh SQLite file (or a fresh PostgreSQL database, with
/// `BRIDGE_TEST_DATABASE=postgres`: `TestDatabase`), every channel configured, and helpers to call
/// it like a platform or an agent would (`api`: the typed REST client).
///
/// Only the platform stand-ins a test names in `standIns` are started; every other channel's API
/// points at `NotStartedStandIns`, which answers 404 and makes `stop()` fail the test naming the
/// call and the stand-in to add. The Slack console (which mirrors every ticket to Slack) is
/// configured only with `.slack`.
struct TestBridge {
    static let lineSecret = "line-test-channel-secret"
    static let whatsappSecret = "whatsapp-test-app-secret"
    static let phoneNumberId = "106540352242922"
    static let adminToken = "test-admin-token-0123456789abcdef"
    /// The key console channel accounts' secrets are sealed with (32 bytes, base64).
    static let secretsKey = Data((0..<32).map { UInt8($0 * 7 & 0xff) }).base64EncodedString()
    static let messengerSecret = "messenger-test-app-secret"
    static let smsToken = "twilio-test-auth-token"
    static let publicBaseURL = "https://bridge.example.com"
    static let slackSecret = "slack-test-signing-secret"
    static let webchatSecret = "webchat-test-visitor-secret"
    static let webchatOrigin = "https://shop.example"
    /// Every stand-in (the platforms', and those tests start for media, webhooks and push) listens on
    /// 127.0.0.1, which the egress policy refuses; tests of the policy itself narrow this.
    static let standInsAllowed = [EgressAllowEntry("127.0.0.1")].compactMap { $0 }

    /// A platform's API stand-in a test can ask for.
    enum StandIn: String, CaseIterable, Sendable {
        case line, whatsapp
        /// Serves both the Messenger and the Instagram account.
        case meta
        case sms, wechat, slack
    }

    let bridge: RunningBridge
    /// The stand-ins the test asked for, started.
    let started: [StandIn: PlatformStandIn]
    /// Where this bridge's calls to stand-ins it did not start end up (`NotStartedStandIns`).
    let notStartedPrefix: String
    let dataDirectory: String
    /// The bridge's PostgreSQL database, dropped when it stops (nil on SQLite).
    let postgres: FreshPostgresDatabase?

    var line: PlatformStandIn { standIn(.line) }
    var whatsapp: PlatformStandIn { standIn(.whatsapp) }
    var meta: PlatformStandIn { standIn(.meta) }
    var sms: PlatformStandIn { standIn(.sms) }
    var wechat: PlatformStandIn { standIn(.wechat) }
    var slack: PlatformStandIn { standIn(.slack) }

    /// A started stand-in; one the test did not ask for fails the test (and answers a stand-in
    /// that never started, which has no requests).
    func standIn(_ which: StandIn) -> PlatformStandIn {
        if let standIn = started[which] { return standIn }
        Issue.record("the test uses the \(which.rawValue) stand-in without starting it: TestBridge.with(standIns: [.\(which.rawValue), ...])")
        return PlatformStandIn()
    }

    /// Fails the test unless `which` was started: the bridge will call it for what the test does next.
    func requireStandIn(_ which: StandIn, for what: String) {
        if started[which] == nil {
            Issue.record("\(what) makes the bridge call the \(which.rawValue) stand-in: TestBridge.with(standIns: [.\(which.rawValue), ...])")
        }
    }

    static func start(
        standIns: Set<StandIn> = [], janitorInterval: Duration = .seconds(60), clock: ManualClock? = nil,
        configure: (inout BridgeConfig) -> Void = { _ in }, logger: Logger? = nil
    ) async throws -> TestBridge {
        await Self.startGate.enter()
        do {
            let t = try await launch(standIns: standIns, janitorInterval: janitorInterval, clock: clock, configure: configure, logger: logger)
            await Self.startGate.leave()
            return t
        } catch {
            await Self.startGate.leave()
            throw error
        }
    }

    private static func launch(
        standIns: Set<StandIn>, janitorInterval: Duration, clock: ManualClock?, configure: (inout BridgeConfig) -> Void, logger testLogger: Logger?
    ) async throws -> TestBridge {
        var started: [StandIn: PlatformStandIn] = [:]
        for which in StandIn.allCases where standIns.contains(which) {
            let standIn = PlatformStandIn(responder: responder(which))
            try await standIn.start()
            started[which] = standIn
        }
        let notStartedPrefix = "/\(UUID().uuidString)/"
        let notStarted = try await NotStartedStandIns.baseURL() + notStartedPrefix
        func baseURL(_ which: StandIn) -> String { started[which]?.baseURL ?? notStarted + which.rawValue }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-e2e-\(UUID().uuidString)").path
        var config = BridgeConfig()
        config.server.port = 0
        config.databasePath = dir + "/bridge.sqlite"
        config.adminToken = adminToken
        config.bcryptCost = 4
        config.server.publicBaseURL = publicBaseURL
        config.retry = RetryPolicy(initialDelay: .milliseconds(50), maxDelay: .seconds(2), maxAttempts: 4)
        config.secretsKey = secretsKey
        config.egress.allow = standInsAllowed
        config.channels = [
            .line(LINEConfiguration(id: "main", channelSecret: lineSecret, accessToken: "line-test-token", apiBaseURL: baseURL(.line))),
            .whatsapp(WhatsAppConfiguration(
                id: "main", appSecret: whatsappSecret, verifyToken: "wa-verify-token", accessToken: "wa-test-token",
                phoneNumberId: phoneNumberId, apiBaseURL: baseURL(.whatsapp))),
        ] + [ChannelKind.messenger, .instagram].map {
            .messenger(MessengerConfiguration(
                kind: $0, id: "main", appSecret: messengerSecret, verifyToken: "ms-verify-token", pageAccessToken: "page-test-token",
                pageId: "1122334455", apiBaseURL: baseURL(.meta)))
        } + [
            .sms(SMSConfiguration(
                id: "main", accountSid: "AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a", authToken: smsToken, from: "+15552223333",
                apiBaseURL: baseURL(.sms), statusCallbackURL: publicBaseURL + "/webhooks/sms/main")),
            .wechat(WeChatConfiguration(
                id: "main", appId: "wx1234567890abcdef", appSecret: "wx-test-app-secret", token: "wxtoken",
                encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", apiBaseURL: baseURL(.wechat))),
            .webchat(WebchatConfiguration(
                id: "site", name: "Acme Shop", colour: "#0a7c5a", greeting: ["en": "Hi! How can we help?", "ja": "こんにちは！"],
                allowedOrigins: [webchatOrigin], visitorSecret: webchatSecret)),
        ]
        if let slack = started[.slack] {
            config.consoles = [
                SlackConfiguration(
                    id: "main", signingSecret: slackSecret, botToken: "xoxb-test", channel: "C0SUPPORT", apiBaseURL: slack.baseURL,
                    agents: ["U0AGENT": "Alice"], rateLimit: RateLimit(perSecond: 1000))
            ]
        }
        var postgres: FreshPostgresDatabase?
        if TestDatabase.isPostgres {
            let fresh = try await TestDatabase.fresh()
            postgres = fresh
            config.database = .postgres(fresh.settings)
            config.dataDirectory = dir
            config.databaseMaxConnections = 4
        }
        configure(&config)
        var logger = Logger(label: "bridge-test")
        // BRIDGE_TEST_LOG_LEVEL (e.g. error) shows the test bridges' logs when looking into a failure.
        logger.logLevel = ProcessInfo.processInfo.environment["BRIDGE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        if let testLogger { logger = testLogger }
        let now: @Sendable () -> Date
        if let clock { now = { clock.now } } else { now = { Date() } }
        let bridge: RunningBridge
        do {
            bridge = try await RunningBridge.start(config: config, logger: logger, clock: now, janitorInterval: janitorInterval)
        } catch {
            for standIn in started.values { await standIn.stop() }
            try? await postgres?.drop()
            throw error
        }
        return TestBridge(bridge: bridge, started: started, notStartedPrefix: notStartedPrefix, dataDirectory: dir, postgres: postgres)
    }

    /// A few bridges start at a time (see `TestGate`).
    private static let startGate = TestGate(limit: max(2, 2 * ProcessInfo.processInfo.activeProcessorCount))

    /// Each platform's stand-in behaviour, with the names the tests' customers have there.
    private static func responder(_ which: StandIn) -> PlatformStandIn.Responder {
        switch which {
        case .line: StandInPlatforms.line(displayNames: ["U4af4980629a1b2c3d4e5f60718293a4b": "Kenji"])
        case .whatsapp: StandInPlatforms.whatsapp()
        case .meta: StandInPlatforms.messenger(displayNames: ["6543210987654321": "Lena Vogel"])
        case .sms: StandInPlatforms.sms()
        case .wechat: StandInPlatforms.wechat()
        case .slack: StandInPlatforms.slack(users: ["U0BOB": ("Bob Ito", "bob@example.com")])
        }
    }

    /// Stops the bridge, then its stand-ins; fails the test for each call the bridge made to a
    /// stand-in the test did not start.
    func stop() async {
        await bridge.stop()
        await stopStandIns()
        do {
            try await postgres?.drop()
        } catch {
            Issue.record("could not drop the test's PostgreSQL database: \(error)")
        }
    }

    /// Stops the stand-ins (after the bridge, which may still be sending) and reports calls to the
    /// ones not started.
    func stopStandIns() async {
        for standIn in started.values { await standIn.stop() }
        for call in await NotStartedStandIns.calls(under: notStartedPrefix) {
            Issue.record("the bridge called \(call.method) \(call.path) on a stand-in the test did not start: TestBridge.with(standIns: [.\(call.standIn), ...])")
        }
    }

    struct Reply {
        var status: Int
        var body: Data
        var headers: HTTPHeaders
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    }

    /// The REST API as the admin token.
    var api: BridgeAPI { api(token: Self.adminToken) }

    /// The REST API as `agent`.
    func api(as agent: AgentLogin) -> BridgeAPI { api(token: agent.token) }

    /// The REST API with this bearer token (nil: none).
    func api(token: String?) -> BridgeAPI { BridgeAPI(baseURL: bridge.baseURL, token: token) }

    func request(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = [], token: String? = adminToken) async throws -> Reply {
        try await api(token: token).raw(method, path, body: body, headers: headers)
    }

    func get(_ path: String, token: String? = adminToken) async throws -> Reply { try await request(.GET, path, token: token) }

    func postJSON(_ path: String, _ json: String, token: String? = adminToken) async throws -> Reply {
        try await request(.POST, path, body: Data(json.utf8), headers: [("Content-Type", "application/json")], token: token)
    }

    func patchJSON(_ path: String, _ json: String, token: String? = adminToken) async throws -> Reply {
        try await request(.PATCH, path, body: Data(json.utf8), headers: [("Content-Type", "application/json")], token: token)
    }

    /// An agent added through the admin API, with an API token of its own.
    struct AgentLogin {
        var id: Int64
        var token: String
    }

    func addAgent(
        _ name: String, role: String = "agent", departments: [Int64] = [], maxTickets: Int = 5, availability: String? = nil, password: String? = nil
    ) async throws -> AgentLogin {
        let email = name.lowercased().replacingOccurrences(of: " ", with: ".") + "@example.com"
        let agent = try await api.createAgent(
            .init(email: email, name: name, role: role, password: password, maxTickets: maxTickets, departments: departments))
        let token = try await api.createToken(agent: agent.id, label: "test").token
        if let availability {
            _ = try await api(token: token).updateAgent(agent.id, .init(availability: availability))
        }
        return AgentLogin(id: agent.id, token: token)
    }

    /// On PostgreSQL, `body` while the database refuses every new row of `table` (a `CHECK (false)`
    /// constraint), as a shared ledger that cannot be reached would; the table takes writes again after.
    func whileRefusingWrites(to table: String, _ body: () async throws -> Void) async throws {
        let settings = try #require(postgres, "a PostgreSQL-only helper").settings
        let logger = Logger(label: "test")
        func alter(_ change: String) async throws {
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                _ = try await db.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) \(change)"), logger: logger)
            }
        }
        try await alter("ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
        do {
            try await body()
        } catch {
            try await alter("DROP CONSTRAINT refuse_all")
            throw error
        }
        try await alter("DROP CONSTRAINT refuse_all")
    }

    func addDepartment(_ name: String) async throws -> Int64 { try await api.createDepartment(name).id }

    /// A LINE customer writes; returns their ticket's id.
    func customerWrites(_ user: String, _ text: String) async throws -> Int64 {
        let eventId = "01" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24)
        _ = try await postLINE(Payloads.lineText(String(eventId), text, user: user))
        guard let id = try await api.ticketIds("contact=\(user)").first else { throw TimeoutError(what: "a ticket for \(user)") }
        return id
    }

    /// Posts a LINE webhook signed with the channel secret (or with `signature` as given).
    /// An accepted one makes the bridge call LINE (the sender's profile, media): the test must start `.line`.
    func postLINE(_ body: String, signature: String? = nil, account: String = "main") async throws -> Reply {
        let headers = signature.map { [("X-Line-Signature", $0)] } ?? PlatformSignatures.line(Data(body.utf8), channelSecret: Self.lineSecret)
        let reply = try await request(.POST, "/webhooks/line/\(account)", body: Data(body.utf8), headers: headers, token: nil)
        if reply.status == 200 { requireStandIn(.line, for: "a LINE webhook the bridge accepts") }
        return reply
    }

    /// Posts a WhatsApp webhook signed with the app secret.
    func postWhatsApp(_ body: String, signature: String? = nil) async throws -> Reply {
        let headers = signature.map { [("X-Hub-Signature-256", $0)] } ?? PlatformSignatures.meta(Data(body.utf8), appSecret: Self.whatsappSecret)
        return try await request(.POST, "/webhooks/whatsapp/main", body: Data(body.utf8), headers: headers, token: nil)
    }

    /// Posts a Messenger or Instagram webhook signed with the app secret. An accepted one makes the
    /// bridge call the Graph API (the sender's profile): the test must start `.meta`.
    func postMeta(_ kind: ChannelKind, _ body: String) async throws -> Reply {
        let reply = try await request(
            .POST, "/webhooks/\(kind.rawValue)/main", body: Data(body.utf8), headers: PlatformSignatures.meta(Data(body.utf8), appSecret: Self.messengerSecret),
            token: nil)
        if reply.status == 200 { requireStandIn(.meta, for: "a \(kind.rawValue) webhook the bridge accepts") }
        return reply
    }

    /// Posts a Twilio form webhook signed for the bridge's public URL.
    func postSMS(_ params: [(String, String)]) async throws -> Reply {
        let headers = PlatformSignatures.twilio(url: Self.publicBaseURL + "/webhooks/sms/main", params: params, authToken: Self.smsToken)
        return try await request(.POST, "/webhooks/sms/main", body: Data(FormEncoding.encode(params).utf8), headers: headers, token: nil)
    }

    /// Posts a WeChat message signed in the query; `safe` encrypts it as safe mode does.
    func postWeChat(_ xml: String, safe: Bool = false) async throws -> Reply {
        let (timestamp, nonce) = (String(Int(Date().timeIntervalSince1970)), "n\(UInt32.random(in: 0...UInt32.max))")
        var body = xml
        var encrypted: String?
        if safe {
            encrypted = try WeChatCrypto.encrypt(
                Data(xml.utf8), encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", appId: "wx1234567890abcdef",
                random: Data((0..<16).map { _ in UInt8.random(in: 0...255) }))
            body = "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[\(encrypted ?? "")]]></Encrypt></xml>"
        }
        let query = PlatformSignatures.wechatQuery(token: "wxtoken", timestamp: timestamp, nonce: nonce, encrypted: encrypted) + "&openid=\(Payloads.openId)"
        return try await request(.POST, "/webhooks/wechat/main?\(query)", body: Data(body.utf8), headers: [("Content-Type", "text/xml")], token: nil)
    }

    /// Posts a Slack Events API or interactivity body signed with the signing secret, timestamped now.
    func postSlack(_ body: String, form: Bool = false, retryNum: Int? = nil, timestamp: Int = Int(Date().timeIntervalSince1970)) async throws -> Reply {
        requireStandIn(.slack, for: "the Slack console (configured only with its stand-in)")
        var headers = PlatformSignatures.slack(Data(body.utf8), signingSecret: Self.slackSecret, timestamp: timestamp)
            + [("Content-Type", form ? "application/x-www-form-urlencoded" : "application/json")]
        if let retryNum { headers += [("X-Slack-Retry-Num", String(retryNum)), ("X-Slack-Retry-Reason", "http_timeout")] }
        return try await request(.POST, "/webhooks/slack/main", body: Data(body.utf8), headers: headers, token: nil)
    }

    /// Texts posted to Slack so far.
    var slackPosts: [[String: Any]] { slack.requests(to: "/chat.postMessage").compactMap { $0.json as? [String: Any] } }

    /// Polls until `condition` holds (background work: dispatcher, downloads); fails after `timeout`.
    func eventually(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TimeoutError(what: what)
    }

    struct TimeoutError: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    func messages(ticket: some BinaryInteger) async throws -> [[String: Any]] { try await get("/api/v1/tickets/\(ticket)/messages").items }
}

/// Real-format payloads for the end-to-end tests.
enum Payloads {
    static let lineUser = "U4af4980629a1b2c3d4e5f60718293a4b"
    static let customer = "5511988887777"

    static func lineText(
        _ eventId: String, _ text: String, replyToken: String = "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", at ms: Int64 = Int64(Date().timeIntervalSince1970 * 1000),
        user: String = lineUser
    ) -> String {
        #"{"destination":"Ubot","events":[{"type":"message","timestamp":\#(ms),"webhookEventId":"\#(eventId)","deliveryContext":{"isRedelivery":false},"replyToken":"\#(replyToken)","mode":"active","source":{"type":"user","userId":"\#(user)"},"message":{"id":"m\#(eventId)","type":"text","quoteToken":"q","text":"\#(text)"}}]}"#
    }

    static func lineImage(_ eventId: String) -> String {
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        return #"{"destination":"Ubot","events":[{"type":"message","timestamp":\#(ms),"webhookEventId":"\#(eventId)","deliveryContext":{"isRedelivery":false},"replyToken":"rt-\#(eventId)","mode":"active","source":{"type":"user","userId":"\#(lineUser)"},"message":{"id":"468789577898262532","type":"image","quoteToken":"q","contentProvider":{"type":"line"}}}]}"#
    }

    static func whatsapp(_ inner: String) -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},\#(inner)},"field":"messages"}]}]}"#
    }

    static func whatsappText(_ id: String, _ text: String, at seconds: Int64 = Int64(Date().timeIntervalSince1970)) -> String {
        whatsapp(#""contacts":[{"profile":{"name":"Ana"},"wa_id":"\#(customer)"}],"messages":[{"from":"\#(customer)","id":"\#(id)","timestamp":"\#(seconds)","type":"text","text":{"body":"\#(text)"}}]"#)
    }

    static let psid = "6543210987654321"
    static let openId = "oia2TjuEGTNoeX76QEjQNrcURxG8"

    static func slackThreadReply(_ eventId: String, thread: String, text: String, user: String = "U0AGENT") -> String {
        #"{"type":"event_callback","team_id":"T0123","api_app_id":"A0456","event_id":"\#(eventId)","event_time":1700000100,"event":{"type":"message","channel":"C0SUPPORT","channel_type":"channel","user":"\#(user)","text":"\#(text)","ts":"1700000100.\#(eventId.suffix(6))","thread_ts":"\#(thread)"}}"#
    }

    static func slackButton(_ action: String, ticket: Int, thread: String, user: String = "U0BOB", trigger: String) -> String {
        let payload = #"{"type":"block_actions","user":{"id":"\#(user)"},"trigger_id":"\#(trigger)","container":{"type":"message","message_ts":"\#(thread)","channel_id":"C0SUPPORT"},"channel":{"id":"C0SUPPORT"},"message":{"ts":"\#(thread)"},"actions":[{"action_id":"\#(action)","value":"\#(ticket)","type":"button"}]}"#
        return "payload=" + FormEncoding.escape(payload)
    }

    static func wechatText(_ msgId: String, _ text: String, at seconds: Int = Int(Date().timeIntervalSince1970)) -> String {
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[\(openId)]]></FromUserName><CreateTime>\(seconds)</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[\(text)]]></Content><MsgId>\(msgId)</MsgId></xml>"
    }

    /// An inbound Twilio message from the WhatsApp customer's phone number.
    static func sms(_ sid: String, _ body: String, from: String = "+" + customer) -> [(String, String)] {
        [("SmsMessageSid", sid), ("NumMedia", "0"), ("SmsSid", sid), ("SmsStatus", "received"), ("Body", body), ("To", "+15552223333"),
         ("NumSegments", "1"), ("MessageSid", sid), ("AccountSid", "AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"), ("From", from), ("ApiVersion", "2010-04-01")]
    }

    static func smsStatus(_ sid: String, _ status: String) -> [(String, String)] {
        [("SmsSid", sid), ("SmsStatus", status), ("MessageStatus", status), ("To", "+" + customer), ("MessageSid", sid),
         ("AccountSid", "AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"), ("From", "+15552223333"), ("ApiVersion", "2010-04-01")]
    }

    /// A Messenger Platform body (`object` page or instagram) with one `messaging` item.
    static func meta(_ kind: ChannelKind, _ fields: String, at ms: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> String {
        #"{"object":"\#(kind == .instagram ? "instagram" : "page")","entry":[{"time":\#(ms),"id":"1122334455","messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"1122334455"},"timestamp":\#(ms),\#(fields)}]}]}"#
    }

    static func whatsappStatus(_ wamid: String, _ status: String) -> String {
        whatsapp(#""statuses":[{"id":"\#(wamid)","status":"\#(status)","timestamp":"\#(Int64(Date().timeIntervalSince1970))","recipient_id":"\#(customer)"}]"#)
    }
}

extension TestBridge {
    /// Runs `body` against a started bridge and always stops it (and its stand-ins) afterwards.
    static func with(
        standIns: Set<StandIn> = [], janitorInterval: Duration = .seconds(60), clock: ManualClock? = nil,
        configure: (inout BridgeConfig) -> Void = { _ in }, logger: Logger? = nil, _ body: (TestBridge) async throws -> Void
    ) async throws {
        let t = try await start(standIns: standIns, janitorInterval: janitorInterval, clock: clock, configure: configure, logger: logger)
        do {
            try await body(t)
        } catch {
            await t.stop()
            throw error
        }
        await t.stop()
    }
}
