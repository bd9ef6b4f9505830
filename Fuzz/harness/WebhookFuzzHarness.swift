import ChannelKit
import EmailChannel
import Foundation
import LINEChannel
import MessengerChannel
import PlatformSignatures
import SMSChannel
import SlackChannel
import WeChatChannel
import WhatsAppChannel

/// What the fuzzer feeds: one channel's webhook reader.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case line, whatsapp, messenger, instagram, sms, wechat, slack
    /// A raw received mail (RFC 5322/MIME) through the e-mail channel's reader.
    case email
}

/// Runs one fuzz input through a channel the way the server does: the input is the raw body, signed
/// with the test secret as the platform would sign it (so parsing is reached), then verified and
/// parsed. Anything may be thrown; nothing may trap, hang or exhaust memory.
public enum WebhookFuzzHarness {
    static let secret = "fuzz-test-secret"
    static let publicURL = "https://bridge.example.com/webhooks/sms/fuzz"
    /// Signed timestamps are "now" for the reader; a counter keeps WeChat nonces fresh.
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    nonisolated(unsafe) static var nonce = 0

    public static func run(_ target: FuzzTarget, _ body: Data) {
        switch target {
        case .line:
            let adapter = LINEAdapter(configuration: LINEConfiguration(id: "fuzz", channelSecret: secret, accessToken: "t"))
            read(adapter, WebhookRequest(method: "POST", headers: headers(PlatformSignatures.line(body, channelSecret: secret)), body: body))
        case .whatsapp:
            let adapter = WhatsAppAdapter(configuration: WhatsAppConfiguration(
                id: "fuzz", appSecret: secret, verifyToken: "v", accessToken: "t", phoneNumberId: "106540352242922"))
            read(adapter, WebhookRequest(method: "POST", headers: headers(PlatformSignatures.meta(body, appSecret: secret)), body: body))
        case .messenger, .instagram:
            let adapter = MessengerAdapter(configuration: MessengerConfiguration(
                kind: target == .messenger ? .messenger : .instagram, id: "fuzz", appSecret: secret, verifyToken: "v", pageAccessToken: "t", pageId: "1"))
            read(adapter, WebhookRequest(method: "POST", headers: headers(PlatformSignatures.meta(body, appSecret: secret)), body: body))
        case .sms:
            // Twilio signs the form's parameters: a body that is not a form cannot be signed.
            guard let params = FormEncoding.decode(body) else { return }
            let adapter = SMSAdapter(configuration: SMSConfiguration(id: "fuzz", accountSid: "AC1", authToken: secret, from: "+15550000000"))
            read(adapter, WebhookRequest(
                method: "POST", url: publicURL, headers: headers(PlatformSignatures.twilio(url: publicURL, params: params, authToken: secret)),
                body: body, receivedAt: now))
        case .wechat:
            nonce += 1
            let signed = PlatformSignatures.wechatQuery(token: secret, timestamp: String(Int(now.timeIntervalSince1970)), nonce: "n\(nonce)")
            var query: [String: String] = [:]
            for pair in signed.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { query[parts[0]] = parts[1] }
            }
            let adapter = WeChatAdapter(configuration: WeChatConfiguration(id: "fuzz", appId: "wx1", appSecret: "s", token: secret))
            read(adapter, WebhookRequest(method: "POST", query: query, body: body, receivedAt: now))
        case .slack:
            let console = SlackConsole(configuration: SlackConfiguration(id: "fuzz", signingSecret: secret, botToken: "b", channel: "C1"))
            let request = WebhookRequest(
                method: "POST", headers: headers(PlatformSignatures.slack(body, signingSecret: secret, timestamp: Int(now.timeIntervalSince1970))), body: body)
            guard (try? console.verify(request, now: now)) != nil else { fatalError("a correctly signed Slack body was refused") }
            _ = try? console.parse(request)
        case .email:
            // Mail is not signed (it is read from the mailbox): the whole input is the raw message.
            _ = try? MailEvents.events(from: ParsedMail.parse(body), raw: body, receivedAt: now)
        }
    }

    /// Verify, then parse. A correctly signed body that fails verification is a bug the fuzzer reports.
    static func read(_ adapter: any ChannelAdapter, _ request: WebhookRequest) {
        do {
            try adapter.verify(request)
        } catch {
            fatalError("a correctly signed \(adapter.account.kind.rawValue) body was refused: \(error.message)")
        }
        _ = try? adapter.parse(request)
    }

    static func headers(_ pairs: [(String, String)]) -> [String: String] {
        Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }
}
