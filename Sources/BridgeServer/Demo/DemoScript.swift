import AsyncHTTPClient
import ChannelKit
import Foundation
import NIOCore
import NIOHTTP1
import PlatformStandIns

/// Signed customer conversations the demo plays into a running bridge, in each platform's own format.
struct DemoScript {
    static let lineSecret = "demo-line-channel-secret"
    static let whatsappSecret = "demo-whatsapp-app-secret"
    static let whatsappPhoneNumberId = "106540352242922"
    static let lineUser = "U4af4980629a1b2c3d4e5f60718293a4b"
    static let whatsappUser = "5511988887777"
    static let messengerSecret = "demo-messenger-app-secret"
    static let messengerPage = "1122334455"
    static let messengerUser = "6543210987654321"
    static let smsToken = "demo-twilio-auth-token"
    static let wechatToken = "demo-wechat-token"
    static let slackSecret = "demo-slack-signing-secret"
    static let wechatUser = "oia2TjuEGTNoeX76QEjQNrcURxG8"

    let bridgeURL: String
    let client: HTTPClient

    /// Posts a LINE webhook body signed with the demo channel secret.
    func postLINE(_ body: String) async throws -> Int {
        try await post(.line(body, account: "main", channelSecret: Self.lineSecret))
    }

    /// Posts a WhatsApp webhook body signed with the demo app secret.
    func postWhatsApp(_ body: String) async throws -> Int {
        try await post(.meta(body, kind: "whatsapp", account: "main", appSecret: Self.whatsappSecret))
    }

    /// Posts a Messenger Platform webhook (Messenger or Instagram) signed with the demo app secret.
    func postMessenger(_ body: String, kind: String = "messenger") async throws -> Int {
        try await post(.meta(body, kind: kind, account: "main", appSecret: Self.messengerSecret))
    }

    /// Posts a Twilio form webhook signed for the URL the bridge is reached at.
    func postSMS(_ params: [(String, String)]) async throws -> Int {
        try await post(.twilio(params, account: "main", authToken: Self.smsToken, publicBaseURL: bridgeURL))
    }

    /// Posts a WeChat message signed in the query with the demo token (plaintext mode).
    func postWeChat(_ msgId: String, _ text: String, at seconds: Int64) async throws -> Int {
        try await post(.wechat(account: "main", token: Self.wechatToken, from: Self.wechatUser, msgId: msgId, text: text, at: seconds))
    }

    /// Posts an agent's Slack thread reply, signed as Slack signs Events API calls.
    func postSlackThreadReply(thread: String, text: String) async throws -> Int {
        let timestamp = Int(Date().timeIntervalSince1970)
        let body = #"{"type":"event_callback","team_id":"T0DEMO","event_id":"EvDEMO\#(timestamp)","event":{"type":"message","channel":"C0SUPPORT","user":"U0AGENT","text":"\#(text)","ts":"\#(timestamp).000900","thread_ts":"\#(thread)"}}"#
        return try await post(SignedWebhook(
            path: "/webhooks/slack/main", body: body,
            headers: PlatformSignatures.slack(Data(body.utf8), signingSecret: Self.slackSecret, timestamp: timestamp) + [("Content-Type", "application/json")]))
    }

    static func messengerMessage(_ mid: String, _ fields: String, at ms: Int64, object: String = "page") -> String {
        SignedWebhook.messengerMessage(mid, fields, from: messengerUser, page: messengerPage, at: ms, object: object)
    }

    private func post(_ webhook: SignedWebhook) async throws -> Int {
        var request = HTTPClientRequest(url: bridgeURL + webhook.path)
        request.method = .POST
        for (name, value) in webhook.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: webhook.body))
        let response = try await client.execute(request, timeout: .seconds(10))
        return Int(response.status.code)
    }

    static func lineEvent(_ id: String, _ type: String, _ fields: String, at ms: Int64) -> String {
        SignedWebhook.lineEvent("DEMO" + id, type, fields, from: lineUser, at: ms)
    }

    static func whatsappMessage(_ id: String, _ type: String, _ body: String, at seconds: Int64) -> String {
        SignedWebhook.whatsappMessage("wamid.DEMO" + id, type, body, from: whatsappUser, name: "Ana", phoneNumberId: whatsappPhoneNumberId, at: seconds)
    }

    static func whatsappStatus(_ wamid: String, _ status: String, at seconds: Int64) -> String {
        SignedWebhook.whatsappStatus(wamid, status, to: whatsappUser, phoneNumberId: whatsappPhoneNumberId, at: seconds)
    }

    /// One customer webhook, and how the demo announces it when it plays it live.
    struct Step: Sendable {
        let says: String
        let post: @Sendable () async throws -> Int
    }

    /// Kenji's LINE conversation: already waiting in the inbox when the agent first signs in.
    func opening() -> [Step] {
        let ms = Int64(Date().timeIntervalSince1970 * 1000) - 5000
        return [
            Step(says: "Kenji follows the LINE account") { try await postLINE(Self.lineEvent("1", "follow", #","follow":{"isUnblocked":false}"#, at: ms)) },
            Step(says: "Kenji on LINE: Hi! Where is my order #1234?") {
                try await postLINE(Self.lineEvent("2", "message", #","message":{"id":"500000000000000001","type":"text","quoteToken":"q1","text":"Hi! Where is my order #1234?"}"#, at: ms + 1))
            },
            Step(says: "Kenji on LINE: (an image)") {
                try await postLINE(Self.lineEvent("3", "message", #","message":{"id":"500000000000000002","type":"image","quoteToken":"q2","contentProvider":{"type":"line"}}"#, at: ms + 2))
            },
        ]
    }

    /// The other customers, who write while the agent watches the inbox.
    func arrivals() -> [Step] {
        // Dated when posted (they may be played minutes apart), a little in the past and in order
        // even when played all at once.
        var ms: Int64 { Int64(Date().timeIntervalSince1970 * 1000) - 6000 }
        var s: Int64 { ms / 1000 }
        return [
            Step(says: "Ana on WhatsApp: Olá! Order status?") { try await postWhatsApp(Self.whatsappMessage("1", "text", #""text":{"body":"Olá! Order status?"}"#, at: s)) },
            Step(says: "Ana on WhatsApp: (her location)") {
                try await postWhatsApp(Self.whatsappMessage("2", "location", #""location":{"latitude":-23.5505,"longitude":-46.6333,"name":"Home","address":"Av. Paulista 1000"}"#, at: s + 1))
            },
            Step(says: "Ana on WhatsApp: Track my order (a button)") {
                try await postWhatsApp(Self.whatsappMessage("3", "interactive", #""interactive":{"type":"button_reply","button_reply":{"id":"track-order","title":"Track my order"}}"#, at: s + 2))
            },
            Step(says: "Lena on Messenger: Hallo! Can I change my delivery address?") {
                try await postMessenger(Self.messengerMessage("m_demo1", #""text":"Hallo! Can I change my delivery address?""#, at: ms + 3))
            },
            Step(says: "Lena on Messenger: Home (a quick reply)") { try await postMessenger(Self.messengerMessage("m_demo2", #""text":"Home","quick_reply":{"payload":"ADDRESS_HOME"}"#, at: ms + 4)) },
            // Ana again, by SMS from the same number: it joins her WhatsApp ticket.
            Step(says: "Ana by SMS, from the same number (it joins her WhatsApp ticket): My data ran out, texting instead") {
                try await postSMS([("MessageSid", "SMdemo1"), ("From", "+" + Self.whatsappUser), ("To", "+15552223333"), ("Body", "My data ran out, texting instead"), ("NumMedia", "0")])
            },
            Step(says: "A customer on WeChat: 你好，我的订单什么时候发货？") { try await postWeChat("24190000000000001", "你好，我的订单什么时候发货？", at: s + 5) },
            Step(says: "Lena on Instagram: Saw your post, is the blue one in stock?") {
                try await postMessenger(Self.messengerMessage("m_ig1", #""text":"Saw your post, is the blue one in stock?""#, at: ms + 6, object: "instagram"), kind: "instagram")
            },
        ]
    }

    /// Plays `steps` in order, waiting `pace` before each and calling `played` after it; returns how
    /// many webhooks the bridge acknowledged. Ends early (CancellationError) when its task is cancelled.
    func play(_ steps: [Step], pace: Duration = .zero, played: (Step) -> Void = { _ in }) async throws -> Int {
        var acknowledged = 0
        for step in steps {
            if pace > .zero { try await Task.sleep(for: pace) }
            if (200..<300).contains(try await step.post()) { acknowledged += 1 }
            played(step)
        }
        return acknowledged
    }
}
