@testable import BridgeServer
import ChannelKit
import Email
import Foundation
import Testing

@Suite struct ConfigTests {
    /// A plain value like 1:30 is a base-60 number in YAML 1.1, and one too large for an Int made
    /// Yams trap (found by the config fuzzer): it is refused with a clear error; quoted, it is text.
    @Test func baseSixtyNumbersAreRefusedNotTrapped() throws {
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: "server: { port: 99999999999999999:59:59:59:59:59:59 }") }
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: "auth: { adminToken: 1:30 }") }
        #expect(try ConfigLoader.parse(yaml: "auth: { adminToken: \"adm-0123456789abcdef:0123456789abcdef\" }").adminToken == "adm-0123456789abcdef:0123456789abcdef")
        #expect(try ConfigLoader.parse(yaml: "server: { host: \"1:30\" }").server.host == "1:30")
    }

    @Test func noConfigMeansDefaults() throws {
        let config = try ConfigLoader.parse(yaml: "")
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.databasePath == "./data/bridge.sqlite")
        #expect(config.autoCloseAfter == 14 * 86400)
        #expect(config.outboundLease == 120)
        #expect(config.channels.isEmpty)
        #expect(try ConfigLoader.parse(yaml: "outbound: { lease: 5s }").outboundLease == 5)
    }

    @Test func fullConfigWithEnvironmentSecrets() throws {
        let yaml = """
            server: { host: 0.0.0.0, port: 9000 }
            database: { url: "sqlite:/var/lib/bridge/db.sqlite" }
            auth: { adminToken: "${ADMIN}" }
            tickets: { autoCloseAfter: 36h }
            email:
              url: smtp://mail.example.com:587
              username: bridge
              password: ${SMTP_PASSWORD}
              from: Support <support@example.com>
              rateLimit: { perSecond: 5 }
            channels:
              - kind: line
                id: jp
                channelSecret: ${LINE_SECRET}
                accessToken: ${LINE_TOKEN}
                apiBaseURL: http://127.0.0.1:9999/
                rateLimit: { perSecond: 100, burst: 20 }
              - kind: whatsapp
                id: br
                appSecret: s
                verifyToken: v
                accessToken: t
                phoneNumberId: "106540352242922"
                businessAccountId: "102290129340398"
            """
        let config = try ConfigLoader.parse(yaml: yaml, environment: ["ADMIN": "adm-0123456789abcdef0123456789abcdef", "SMTP_PASSWORD": "smtp-secret", "LINE_SECRET": "sec", "LINE_TOKEN": "tok", "BRIDGE_PORT": "9100"])
        #expect(config.server.host == "0.0.0.0")
        #expect(config.server.port == 9100)
        #expect(config.databasePath == "/var/lib/bridge/db.sqlite")
        #expect(config.adminToken == "adm-0123456789abcdef0123456789abcdef")
        #expect(config.autoCloseAfter == 36 * 3600)
        #expect(config.email == SMTPSettings(url: "smtp://mail.example.com:587", username: "bridge", password: "smtp-secret", from: "Support <support@example.com>"))
        #expect(config.emailRateLimit == RateLimit(perSecond: 5))
        #expect(config.channels.map(\.account.key) == ["line/jp", "whatsapp/br"])
        guard case .line(let line) = config.channels[0] else { Issue.record("not LINE"); return }
        #expect(line.channelSecret == "sec")
        #expect(line.apiBaseURL == "http://127.0.0.1:9999")
        #expect(line.dataAPIBaseURL == "http://127.0.0.1:9999")
        #expect(line.rateLimit == RateLimit(perSecond: 100, burst: 20))
        guard case .whatsapp(let whatsapp) = config.channels[1] else { Issue.record("not WhatsApp"); return }
        #expect(whatsapp.businessAccountId == "102290129340398")
    }

    @Test(arguments: [
        ("channels:\n  - kind: line\n    id: a\n    accessToken: t", "channels[0].channelSecret is required"),
        ("channels:\n  - kind: telegram\n    id: a", #"channels[0].kind is "telegram"; supported kinds are line, whatsapp, messenger, instagram, sms, wechat, webchat, email, slack"#),
        ("channels:\n  - kind: line\n    id: a\n    channelSecret: ${MISSING}\n    accessToken: t", "channels[0].channelSecret refers to ${MISSING}, which is not set in the environment"),
        ("channels:\n  - kind: line\n    id: a\n    chanelSecret: x\n    channelSecret: y\n    accessToken: t", "channels[0].chanelSecret is not a known setting (expected one of: accessToken, apiBaseURL, channelSecret, id, kind, rateLimit)"),
        ("channels:\n  - {kind: whatsapp, id: a, appSecret: s, verifyToken: v, accessToken: t, phoneNumberId: \"1\", businessAccountId: \"10/../x\"}",
         "channels[0].businessAccountId must be the WhatsApp Business Account's id (digits)"),
        ("server:\n  port: eighty", #"server.port must be a whole number, got "eighty""#),
        ("database:\n  url: mysql://x", #"database.url must look like sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE, got "mysql://x""#),
        ("tickets:\n  autoCloseAfter: soon", #"tickets.autoCloseAfter must be a duration such as 30s, 15m, 36h or 14d (at most 3660d), got "soon""#),
        // Values that once reached millisecond arithmetic and trapped.
        // Rates whose token-bucket arithmetic would trap (found in review).
        ("channels:\n  - {kind: line, id: a, channelSecret: s, accessToken: t, rateLimit: {perSecond: 1e19}}", "channels[0].rateLimit.perSecond must be from 0.00001 to 100000, got 1e+19"),
        ("channels:\n  - {kind: line, id: a, channelSecret: s, accessToken: t, rateLimit: {perSecond: 1e-10}}", "channels[0].rateLimit.perSecond must be from 0.00001 to 100000, got 1e-10"),
        // YAML the YAML library traps on or expands without end (found by scripts/fuzz.sh).
        ("? [a, b]\n: value\n", "has a key that is not text (a list or mapping used as a key)"),
        ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n", "is too large (aliases expanding to more than 100000 values)"),
        ("outbound:\n  initialBackoff: inf", #"outbound.initialBackoff must be a duration such as 30s, 15m, 36h or 14d (at most 3660d), got "inf""#),
        ("outbound:\n  lease: 0.5s", "outbound.lease must be at least 1s (a send must finish within it)"),
        ("outbound:\n  maxBackoff: 1e300d", #"outbound.maxBackoff must be a duration such as 30s, 15m, 36h or 14d (at most 3660d), got "1e300d""#),
        ("channels:\n  - kind: line\n    id: a\n    channelSecret: s\n    accessToken: t\n    apiBaseURL: not a url", #"channels[0].apiBaseURL must be an http or https URL, got "not a url""#),
        ("channels:\n  - {kind: line, id: a, channelSecret: s, accessToken: t}\n  - {kind: line, id: a, channelSecret: s, accessToken: t}", "channels[1].id repeats line/a; each account needs its own id"),
        // A login limit refilling slower than a token bucket can (the limits are refused, not loosened).
        ("auth:\n  loginLimits: {perAccount: 1, window: 200000s}", "auth.loginLimits.window must let perAccount refill at least one attempt in 100000 s (and at most 100000 a second)"),
        ("colour: blue", "colour is not a known setting (expected one of: auth, broadcast, channels, data, database, egress, email, media, notifier, outbound, reports, satisfaction, search, server, spam, tickets)"),
        ("reports:\n  summaryHour: 24", "reports.summaryHour must be an hour from 0 to 23"),
        ("reports:\n  timeZone: Mars/Base", "reports.timeZone must be an IANA time zone name, e.g. Asia/Tokyo"),
        ("email: { url: http://mail, from: a@example.com }", "email.url must be smtp://host:587 (STARTTLS) or smtps://host:465"),
        ("email: { url: smtp://mail:587, from: nobody }", "email.from must be an address, e.g. Support <support@example.com>"),
        ("email: { url: smtp://mail:25, from: a@example.com, username: u, password: p, allowPlaintext: true }",
         "email.allowPlaintext is only for a relay without login: a password never goes in the clear"),
    ])
    func badConfigNamesTheKey(_ yaml: String, _ message: String) {
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: yaml, environment: [:]) }
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: [:])
        } catch {
            #expect("\(error)" == message)
        }
    }
}

/// Every bridge.yaml kept in fixtures/fuzz/config (inputs the config fuzzer found or was seeded with)
/// is read without a trap: a `ConfigError` at most.
@Suite struct ConfigFuzzReplayTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/fuzz/config")

    static var inputs: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() }

    @Test func thereAreKeptInputs() { #expect(Self.inputs.count >= 4) }

    @Test(arguments: inputs)
    func keptInputIsReadOrRefused(_ name: String) throws {
        let yaml = String(decoding: try Data(contentsOf: Self.directory.appendingPathComponent(name)), as: UTF8.self)
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: ["SECRET": "a-secret-value-from-the-environment-0123"])
        } catch {
            #expect(error is ConfigError, "\(name): \(error)")
        }
    }
}
