import Foundation
import PlatformStandIns

/// The customers' side of the cluster test: one account per channel, and for customer `c`'s
/// message `m` on a channel, the signed webhook and the id the platform gives the message.
struct Traffic {
    static let channels = ["line", "whatsapp", "messenger", "instagram", "sms", "wechat"]
    static let lineSecret = "cluster-line-secret", metaSecret = "cluster-meta-secret"
    static let twilioToken = "cluster-twilio-token", wechatToken = "cluster-wechat-token"
    static let phoneNumberId = "106540352242922", page = "1122334455"

    let seed: String
    let customers: Int

    static func channelConfiguration(
        line: PlatformStandIn, whatsapp: PlatformStandIn, meta: PlatformStandIn, sms: PlatformStandIn, wechat: PlatformStandIn, publicBaseURL: String
    ) -> String {
        """
          - kind: line
            id: main
            channelSecret: \(lineSecret)
            accessToken: cluster-line-token
            apiBaseURL: \(line.baseURL)
            rateLimit: { perSecond: 40 }
          - kind: whatsapp
            id: main
            appSecret: \(metaSecret)
            verifyToken: cluster-verify
            accessToken: cluster-wa-token
            phoneNumberId: "\(phoneNumberId)"
            apiBaseURL: \(whatsapp.baseURL)
        """ + ["messenger", "instagram"].map { kind in
            """

              - kind: \(kind)
                id: main
                appSecret: \(metaSecret)
                verifyToken: cluster-verify
                pageAccessToken: cluster-page-token
                pageId: "\(page)"
                apiBaseURL: \(meta.baseURL)
            """
        }.joined() + """

          - kind: sms
            id: main
            accountSid: AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a
            authToken: \(twilioToken)
            from: "+15552223333"
            apiBaseURL: \(sms.baseURL)
          - kind: wechat
            id: main
            appId: wx1234567890abcdef
            appSecret: cluster-wechat-secret
            token: \(wechatToken)
            apiBaseURL: \(wechat.baseURL)
        """
    }

    /// Customer `customer`'s message `message` on `channel` as the store keys it: `channel:platform id`.
    func platformMessageId(channel: String, customer: Int, message: Int) -> String {
        "\(channel):" + platformId(channel: channel, customer: customer, message: message)
    }

    /// The platform's id of customer `customer`'s message `message` on `channel`.
    func platformId(channel: String, customer: Int, message: Int) -> String {
        switch channel {
        case "line": "\(numericSeed)\(String(format: "%05d%02d", customer, message))"
        case "whatsapp": "wamid.\(seed)W\(customer)x\(message)"
        case "messenger": "m_\(seed)M\(customer)x\(message)"
        case "instagram": "m_\(seed)I\(customer)x\(message)"
        case "sms": "SM\(seed)" + String(format: "%024x", customer * 100 + message)
        default: "\(numericSeed)\(String(format: "%05d%02d", customer, message))"  // wechat
        }
    }

    func webhook(channel: String, customer c: Int, message m: Int) -> SignedWebhook {
        let id = platformId(channel: channel, customer: c, message: m)
        let text = "hello \(m) from \(channel) \(c)"
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        switch channel {
        case "line":
            let user = "U\(seed)" + String(format: "%024x", c)
            return .line(SignedWebhook.lineText("\(seed)-\(c)-\(m)", messageId: id, text, from: user, at: ms), account: "main", channelSecret: Self.lineSecret)
        case "whatsapp":
            let body = SignedWebhook.whatsappMessage(
                id, "text", #""text":{"body":"\#(text)"}"#, from: "5511" + String(format: "%09d", c), name: "Customer \(c)", phoneNumberId: Self.phoneNumberId,
                at: ms / 1000)
            return .meta(body, kind: "whatsapp", account: "main", appSecret: Self.metaSecret)
        case "messenger", "instagram":
            let body = SignedWebhook.messengerMessage(
                id, #""text":"\#(text)""#, from: (channel == "messenger" ? "7100" : "7200") + String(format: "%08d", c), page: Self.page, at: ms,
                object: channel == "messenger" ? "page" : "instagram")
            return .meta(body, kind: channel, account: "main", appSecret: Self.metaSecret)
        case "sms":
            let params = [("MessageSid", id), ("From", "+1555" + String(format: "%07d", c)), ("To", "+15552223333"), ("Body", text), ("NumMedia", "0")]
            return .twilio(params, account: "main", authToken: Self.twilioToken, publicBaseURL: publicBaseURL)
        default:
            return .wechat(account: "main", token: Self.wechatToken, from: "o\(seed)\(c)", msgId: id, text: text, at: ms / 1000)
        }
    }

    /// Twilio signs the URL it posts to: nginx's, where the cluster is reached.
    var publicBaseURL: String

    /// Digits from the seed, for the platforms whose ids are numbers.
    private var numericSeed: String { String(UInt64(seed.prefix(6), radix: 16) ?? 1) }
}
