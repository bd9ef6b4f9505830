import ChannelKit
import Foundation
import LINEChannel
import MessengerChannel
import SMSChannel
import WeChatChannel
import WebchatChannel
import Crypto
import Testing
import WhatsAppChannel

/// A webhook fixture: `fixtures/<kind>/<name>.json` (raw body as the platform sends it) and
/// `<name>.expected.json` (signature header from the test secret, and the normalised events).
struct FixtureCase: CustomTestStringConvertible, Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures")

    let kind: ChannelKind
    let name: String

    var testDescription: String { "\(kind.rawValue)/\(name)" }

    static func all(_ kind: ChannelKind) -> [FixtureCase] {
        let dir = root.appendingPathComponent(kind.rawValue)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }.sorted()
            .map { FixtureCase(kind: kind, name: String($0.dropLast(".json".count))) }
    }

    static var every: [FixtureCase] { webhookKinds.flatMap(all) }

    /// The channels whose messages arrive by webhook (e-mail is read from a mailbox).
    static let webhookKinds = ChannelKind.allCases.filter { $0 != .email }

    struct Expected: Decodable {
        var description: String
        var headers: [String: String]
        /// The events parse must produce, and
        var events: [InboundEvent]?
        /// a part of the reason of each event it must keep unread, or
        var unreadable: [String]?
        /// the reason it must refuse the (correctly signed) body with.
        var error: String?
        /// The public URL the platform signed (Twilio), and when the call arrived.
        var url: String?
        var receivedAt: Date?
        /// Query parameters (WeChat signs there).
        var query: [String: String]?
        /// The HTTP status `error` maps to (default 400).
        var status: Int?
    }

    var body: Data {
        get throws { try Data(contentsOf: Self.root.appendingPathComponent("\(kind.rawValue)/\(name).json")) }
    }

    var expected: Expected {
        get throws {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .millisecondsSince1970
            return try decoder.decode(Expected.self, from: Data(contentsOf: Self.root.appendingPathComponent("\(kind.rawValue)/\(name).expected.json")))
        }
    }

    func request(body: Data? = nil, headers: [String: String]? = nil, query: [String: String]? = nil) throws -> WebhookRequest {
        let expected = try expected
        return WebhookRequest(
            method: "POST", url: expected.url ?? "", headers: headers ?? expected.headers, query: query ?? expected.query ?? [:],
            body: try body ?? self.body, receivedAt: expected.receivedAt ?? Date())
    }
}

/// The secrets the fixtures are signed with (see fixtures/make_fixtures.py).
enum TestAccounts {
    static let lineSecret = "line-test-channel-secret"
    static let whatsappSecret = "whatsapp-test-app-secret"
    static let whatsappPhoneNumberId = "106540352242922"
    static let messengerSecret = "messenger-test-app-secret"
    static let smsToken = "twilio-test-auth-token"
    static let smsURL = "https://bridge.example.com/webhooks/sms/main"
    static let wechatToken = "wxtoken"
    static let wechatAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    static let wechatAppId = "wx1234567890abcdef"
    static let webchatSecret = "webchat-test-visitor-secret"
    static let webchatVisitor = "Vq3xY8bT2mK9pL4sW7nR1c"

    static func webchat(secret: String = webchatSecret) -> WebchatAdapter {
        WebchatAdapter(configuration: WebchatConfiguration(
            id: "site", name: "Acme Shop", allowedOrigins: ["https://shop.example"], visitorSecret: secret))
    }

    static func wechat(token: String = wechatToken, apiBaseURL: String? = nil) -> WeChatAdapter {
        WeChatAdapter(configuration: WeChatConfiguration(
            id: "main", appId: wechatAppId, appSecret: "wx-test-app-secret", token: token, encodingAESKey: wechatAESKey, apiBaseURL: apiBaseURL))
    }

    /// A request for `body` signed as the platform would sign it, with the test secrets.
    static func signedRequest(_ kind: ChannelKind, body: Data) -> WebhookRequest {
        guard kind == .wechat else {
            return WebhookRequest(method: "POST", url: smsURL, headers: signatureHeaders(kind, body: body), body: body)
        }
        let signature = Hex.encode(Insecure.SHA1.hash(data: Data([wechatToken, "1700000000", "nonce123"].sorted().joined().utf8)))
        return WebhookRequest(
            method: "POST", query: ["signature": signature, "timestamp": "1700000000", "nonce": "nonce123"], body: body,
            receivedAt: Date(timeIntervalSince1970: 1_700_000_000))
    }

    static func sms(token: String = smsToken, apiBaseURL: String? = nil, statusCallbackURL: String? = nil) -> SMSAdapter {
        SMSAdapter(configuration: SMSConfiguration(
            id: "main", accountSid: "AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a", authToken: token, from: "+15552223333",
            apiBaseURL: apiBaseURL, statusCallbackURL: statusCallbackURL))
    }

    static func line(secret: String = lineSecret, apiBaseURL: String? = nil) -> LINEAdapter {
        LINEAdapter(configuration: LINEConfiguration(id: "main", channelSecret: secret, accessToken: "line-test-token", apiBaseURL: apiBaseURL))
    }

    static func whatsapp(secret: String = whatsappSecret, apiBaseURL: String? = nil) -> WhatsAppAdapter {
        WhatsAppAdapter(configuration: WhatsAppConfiguration(
            id: "main", appSecret: secret, verifyToken: "wa-verify-token", accessToken: "wa-test-token",
            phoneNumberId: whatsappPhoneNumberId, apiBaseURL: apiBaseURL))
    }

    static func messenger(_ kind: ChannelKind = .messenger, secret: String = messengerSecret, apiBaseURL: String? = nil) -> MessengerAdapter {
        MessengerAdapter(configuration: MessengerConfiguration(
            kind: kind, id: "main", appSecret: secret, verifyToken: "ms-verify-token", pageAccessToken: "page-test-token",
            pageId: "1122334455", apiBaseURL: apiBaseURL))
    }

    static func adapter(_ kind: ChannelKind, secret: String? = nil) -> any ChannelAdapter {
        switch kind {
        case .line: line(secret: secret ?? lineSecret)
        case .whatsapp: whatsapp(secret: secret ?? whatsappSecret)
        case .messenger, .instagram: messenger(kind, secret: secret ?? messengerSecret)
        case .sms: sms(token: secret ?? smsToken)
        case .wechat: wechat(token: secret ?? wechatToken)
        case .webchat: webchat(secret: secret ?? webchatSecret)
        case .email: preconditionFailure("e-mail accounts take no webhooks (Tests/EmailChannelTests)")
        }
    }

    /// Signs `body` the way the platform would, with the test secret.
    static func signatureHeaders(_ kind: ChannelKind, body: Data) -> [String: String] {
        switch kind {
        case .line: ["x-line-signature": Signatures.hmacSHA256Base64(secret: lineSecret, body: body)]
        case .whatsapp: ["x-hub-signature-256": "sha256=" + Signatures.hmacSHA256Hex(secret: whatsappSecret, body: body)]
        case .messenger, .instagram: ["x-hub-signature-256": "sha256=" + Signatures.hmacSHA256Hex(secret: messengerSecret, body: body)]
        case .sms:
            // Twilio signs the URL followed by every parameter as name+value, sorted.
            ["x-twilio-signature": Signatures.hmacSHA1Base64(
                secret: smsToken,
                message: Data((smsURL + (FormEncoding.decode(body) ?? []).sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { $0.0 + $0.1 }.joined()).utf8))]
        case .wechat: [:]  // WeChat signs in the query: see signedRequest
        case .webchat: [WebchatAdapter.tokenHeader: VisitorToken.make(visitorId: webchatVisitor, secret: webchatSecret)]  // names the visitor, not the body
        case .email: [:]
        }
    }
}
