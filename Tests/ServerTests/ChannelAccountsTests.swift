@testable import BridgeServer
import ChannelKit
import Foundation
import Logging
import PlatformSignatures
import Synchronization
import Testing
import UniversalInbox

/// Channel accounts added through the API (the console's Channels section): in force for the next
/// webhook without a restart, disabled likewise, in a second process too; their secrets sealed in
/// the database, never answered in full and never logged.
@Suite struct ChannelAccountsTests {
    static let secret = "shop-channel-secret-5f1c9a7e3b2d"
    static let token = "shop-access-token-A9q8Z7x6W5v4"

    static func addShop(_ t: TestBridge, apiBaseURL: String) async throws -> TestBridge.Reply {
        try await t.postJSON("/api/v1/channel-accounts", """
            {"kind":"line","id":"shop","fields":{"channelSecret":"\(secret)","accessToken":"\(token)","apiBaseURL":"\(apiBaseURL)"}}
            """)
    }

    static func postShop(_ t: TestBridge, _ body: String, secret: String = ChannelAccountsTests.secret) async throws -> TestBridge.Reply {
        try await t.request(
            .POST, "/webhooks/line/shop", body: Data(body.utf8), headers: PlatformSignatures.line(Data(body.utf8), channelSecret: secret), token: nil)
    }

    static func shop(_ t: TestBridge) async throws -> [String: Any] {
        try #require(try await t.get("/api/v1/channel-accounts").items.first { $0["key"] as? String == "line/shop" })
    }

    @Test func anAccountAddedIsInForceForTheNextWebhookAndADisabledOneIsRefused() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let added = try await Self.addShop(t, apiBaseURL: t.line.baseURL)
            #expect(added.status == 201, "\(added.text)")
            #expect(added.json["webhookURL"] as? String == TestBridge.publicBaseURL + "/webhooks/line/shop")

            let body = Payloads.lineText("01SHOPACCOUNT", "hello shop")
            #expect(try await Self.postShop(t, body).status == 200)
            #expect(try await Self.postShop(t, Payloads.lineText("01SHOPFORGED", "forged"), secret: "not-the-secret").status == 401)
            let shop = try await Self.shop(t)
            let activity = try #require(shop["activity"] as? [String: Any])
            #expect(activity["refusedLastHour"] as? Int == 1)
            #expect(activity["lastWebhookAt"] is String)
            #expect(shop["source"] as? String == "console")
            #expect(try await t.api.ticketIds("contact=\(Payloads.lineUser)").count == 1)

            // A second process (its own registry, sharing only the database) picks the account up at
            // its first webhook, and a change within `webhookStaleness` (webhooks for known accounts do
            // not read the database each time).
            let other = ChannelRegistry([], rateLimits: InProcessRateLimitLedger(), console: t.bridge.parts.registry.console)
            let start = ContinuousClock.now
            #expect(other.adapter(kind: .line, id: "shop") == nil)
            try await other.refreshForWebhook(key: "line/shop", now: start)
            #expect(other.adapter(kind: .line, id: "shop") != nil)

            let disabled = try await t.patchJSON("/api/v1/channel-accounts/line/shop", #"{"enabled":false}"#)
            #expect(disabled.status == 200 && disabled.json["enabled"] as? Bool == false, "\(disabled.text)")
            let refused = try await Self.postShop(t, Payloads.lineText("01SHOPOFF", "are you there"))
            #expect(refused.status == 403 && refused.errorCode == "account_disabled")
            try await other.refreshForWebhook(key: "line/shop", now: start + .milliseconds(500))
            #expect(other.adapter(kind: .line, id: "shop") != nil, "checked half a second ago: not read again")
            try await other.refreshForWebhook(key: "line/shop", now: start + ChannelRegistry.webhookStaleness)
            #expect(other.adapter(kind: .line, id: "shop") == nil && other.isDisabled("line/shop"))

            #expect(try await t.patchJSON("/api/v1/channel-accounts/line/shop", #"{"enabled":true}"#).status == 200)
            #expect(try await Self.postShop(t, Payloads.lineText("01SHOPON", "back again")).status == 200)
        }
    }

    /// A burst of forged webhooks costs a write or two, not one each, and every one is counted.
    @Test func aBurstOfRefusalsIsCountedWhole() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            #expect(try await Self.addShop(t, apiBaseURL: t.line.baseURL).status == 201)
            for n in 0..<6 {
                #expect(try await Self.postShop(t, Payloads.lineText("01FORGED\(n)", "forged"), secret: "wrong").status == 401)
            }
            try await t.eventually("six refusals counted") {
                (try await Self.shop(t)["activity"] as? [String: Any])?["refusedLastHour"] as? Int == 6
            }
        }
    }

    @Test func aSecretIsSealedAtRestNeverAnsweredInFullAndNeverLogged() async throws {
        let log = CapturedLog()
        var logger = Logger(label: "channel-accounts-test") { _ in log.handler }
        logger.logLevel = .trace
        try await TestBridge.with(standIns: [.line], logger: logger) { t in
            let added = try await Self.addShop(t, apiBaseURL: t.line.baseURL)
            #expect(added.status == 201)
            let edited = try await t.patchJSON("/api/v1/channel-accounts/line/shop", #"{"fields":{"accessToken":"","channelSecret":"\#(Self.secret)"}}"#)
            #expect(edited.status == 200, "\(edited.text)")
            #expect(try await Self.postShop(t, Payloads.lineText("01SEALED", "hello")).status == 200)
            let listed = try await t.get("/api/v1/channel-accounts")
            let answers = [added.text, edited.text, listed.text]

            let shop = try await Self.shop(t)
            let secrets = try #require(shop["secrets"] as? [[String: Any]])
            #expect(secrets.map { $0["name"] as? String } == ["channelSecret", "accessToken"])
            #expect(secrets.map { $0["last4"] as? String } == [String(Self.secret.suffix(4)), String(Self.token.suffix(4))])
            #expect(secrets.allSatisfy { $0["set"] as? Bool == true })

            // What the database holds: the row as read back, and on SQLite the files themselves.
            let row = try #require(try await t.bridge.inbox.stores.channelAccounts.account(kind: "line", id: "shop"))
            var stored = [row.sealedSecrets, "\(row.settings)", "\(row.secretHints)"]
            if TestDatabase.isSQLite {
                let files = try FileManager.default.contentsOfDirectory(atPath: t.dataDirectory).filter { $0.hasPrefix("bridge.sqlite") }
                #expect(!files.isEmpty)
                stored += try files.map { String(decoding: try Data(contentsOf: URL(fileURLWithPath: t.dataDirectory + "/" + $0)), as: UTF8.self) }
            }
            #expect(row.sealedSecrets.hasPrefix("v1:"))
            let lines = log.lines
            #expect(lines.contains { $0.contains("channel account added") })
            for secret in [Self.secret, Self.token] {
                #expect(!stored.contains { $0.contains(secret) }, "stored in the clear")
                #expect(!answers.contains { $0.contains(secret) }, "answered")
                #expect(!lines.contains { $0.contains(secret) }, "logged")
            }
            // The sealed secrets open with the key, and only for their own account.
            let box = try #require(SecretBox(base64Key: TestBridge.secretsKey))
            #expect(try box.open(row.sealedSecrets, account: "line/shop") == ["channelSecret": Self.secret, "accessToken": Self.token])
            #expect(throws: SecretBoxError.self) { try box.open(row.sealedSecrets, account: "line/other") }
        }
    }

    /// Pointing an account elsewhere keeps none of its sealed secrets: else an edit of the address
    /// alone would send them to a host of the editor's choosing.
    @Test func aNewAddressNeedsTheSecretsAgain() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            #expect(try await Self.addShop(t, apiBaseURL: t.line.baseURL).status == 201)
            let moved = try await t.patchJSON("/api/v1/channel-accounts/line/shop", #"{"fields":{"apiBaseURL":"https://collector.example.net"}}"#)
            #expect(moved.status == 422 && moved.errorCode == "invalid_account", "\(moved.text)")
            #expect((try await Self.shop(t)["settings"] as? [String: Any])?["apiBaseURL"] as? String == t.line.baseURL, "nothing changed")
            // The same address, or another setting, keeps them; a new address with its secrets is taken.
            #expect(try await t.patchJSON("/api/v1/channel-accounts/line/shop", #"{"fields":{"apiBaseURL":"\#(t.line.baseURL)"}}"#).status == 200)
            let withSecrets = try await t.patchJSON("/api/v1/channel-accounts/line/shop", #"""
                {"fields":{"apiBaseURL":"https://collector.example.net","channelSecret":"\#(Self.secret)","accessToken":"another-token-entered-again"}}
                """#)
            #expect(withSecrets.status == 200, "\(withSecrets.text)")
        }
    }

    @Test func withoutAKeyAnAccountWithSecretsIsRefusedSayingHowToSetOne() async throws {
        try await TestBridge.with(configure: { $0.secretsKey = nil }) { t in
            let reply = try await Self.addShop(t, apiBaseURL: "http://127.0.0.1:9")
            #expect(reply.status == 409 && reply.errorCode == "secrets_key_missing")
            #expect(reply.errorMessage?.contains("BRIDGE_SECRETS_KEY") == true)
            #expect(try await t.bridge.inbox.stores.channelAccounts.accounts().isEmpty)
            #expect(try await t.get("/api/v1/channel-accounts").json["secretsKeyConfigured"] as? Bool == false)
        }
    }

    @Test func badAccountsAreRefusedAndNothingIsStored() async throws {
        try await TestBridge.with { t in
            let cases: [(String, Int, String)] = [
                (#"{"kind":"line","id":"main","fields":{"channelSecret":"s","accessToken":"t"}}"#, 409, "account_in_config"),
                (#"{"kind":"line","id":"shop","fields":{"channelSecret":"s"}}"#, 422, "invalid_account"),
                (#"{"kind":"line","id":"sh op","fields":{"channelSecret":"s","accessToken":"t"}}"#, 400, "invalid_id"),
                (#"{"kind":"line","id":"shop","fields":{"channelSecret":"\#(String(repeating: "s", count: 4097))","accessToken":"t"}}"#, 400, "invalid_field"),
                (#"{"kind":"line","id":"shop","fields":{"channelSecret":"s","accessToken":"t","pageId":"1"}}"#, 422, "unknown_field"),
                (#"{"kind":"line","id":"shop","fields":{"channelSecret":"${BRIDGE_ADMIN_TOKEN}","accessToken":"t"}}"#, 422, "invalid_account"),
                (#"{"kind":"line","id":"shop","fields":{"channelSecret":"s","accessToken":"t","apiBaseURL":"ftp://x"}}"#, 422, "invalid_account"),
                (#"{"kind":"fax","id":"shop","fields":{}}"#, 400, "invalid_kind"),
            ]
            for (body, status, code) in cases {
                let reply = try await t.postJSON("/api/v1/channel-accounts", body)
                #expect(reply.status == status && reply.errorCode == code, "\(body): \(reply.status) \(reply.text)")
            }
            #expect(try await t.bridge.inbox.stores.channelAccounts.accounts().isEmpty)
            let main = try await t.patchJSON("/api/v1/channel-accounts/line/main", #"{"enabled":false}"#)
            #expect(main.status == 409 && main.errorCode == "account_in_config")
            #expect(try await t.patchJSON("/api/v1/channel-accounts/line/none", #"{"enabled":false}"#).status == 404)
            // bridge.yaml accounts are listed, read-only, with their secrets only said to be set.
            let items = try await t.get("/api/v1/channel-accounts").items
            let main2 = try #require(items.first { $0["key"] as? String == "line/main" })
            #expect(main2["source"] as? String == "file")
            #expect(!(try await t.get("/api/v1/channel-accounts").text.contains(TestBridge.lineSecret)))
        }
    }

    @Test func aTestMessageGoesThroughTheAccount() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            #expect(try await Self.addShop(t, apiBaseURL: t.line.baseURL).status == 201)
            let sent = try await t.postJSON("/api/v1/channel-accounts/line/shop/test-message", #"{"recipient":"U0123456789abcdef0123456789abcdef","text":"ping"}"#)
            #expect(sent.status == 200 && sent.json["sent"] as? Bool == true, "\(sent.text)")
            let push = try #require(t.line.requests(to: "/v2/bot/message/push").last)
            #expect(push.headers["authorization"] == "Bearer \(Self.token)")
            #expect(String(decoding: push.body, as: UTF8.self).contains("ping"))
        }
    }
}

/// Every log line a bridge writes, with its metadata, for checking what is never logged; shared
/// by the handlers `CapturedLog` makes (a handler is a value: each logger's metadata its own).
final class CapturedLog: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    func append(_ line: String) { storage.withLock { $0.append(line) } }

    var handler: Handler { Handler(sink: self) }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append("\(event.level) \(event.message) \(all) \(event.source)")
        }
    }
}
