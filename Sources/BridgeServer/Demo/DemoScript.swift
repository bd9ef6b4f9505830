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
        try await post("/webhooks/line/main", body: body, headers: PlatformSignatures.line(Data(body.utf8), channelSecret: Self.lineSecret))
    }

    /// Posts a WhatsApp webhook body signed with the demo app secret.
    func postWhatsApp(_ body: String) async throws -> Int {
        try await post("/webhooks/whatsapp/main", body: body, headers: PlatformSignatures.meta(Data(body.utf8), appSecret: Self.whatsappSecret))
    }

    /// Posts a Messenger Platform webhook (Messenger or Instagram) signed with the demo app secret.
    func postMessenger(_ body: String, kind: String = "messenger") async throws -> Int {
        try await post("/webhooks/\(kind)/main", body: body, headers: PlatformSignatures.meta(Data(body.utf8), appSecret: Self.messengerSecret))
    }

    /// Posts a Twilio form webhook signed for the URL the bridge is reached at.
    func postSMS(_ params: [(String, String)]) async throws -> Int {
        let headers = PlatformSignatures.twilio(url: bridgeURL + "/webhooks/sms/main", params: params, authToken: Self.smsToken)
        return try await post("/webhooks/sms/main", body: FormEncoding.encode(params), headers: headers)
    }

    /// Posts a WeChat message signed in the query with the demo token (plaintext mode).
    func postWeChat(_ msgId: String, _ text: String, at seconds: Int64) async throws -> Int {
        let query = PlatformSignatures.wechatQuery(token: Self.wechatToken, timestamp: "\(seconds)", nonce: "demo\(msgId)")
        let xml = "<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[\(Self.wechatUser)]]></FromUserName><CreateTime>\(seconds)</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[\(text)]]></Content><MsgId>\(msgId)</MsgId></xml>"
        return try await post("/webhooks/wechat/main?\(query)&openid=\(Self.wechatUser)", body: xml, headers: [("Content-Type", "text/xml")])
    }

    /// Posts an agent's Slack thread reply, signed as Slack signs Events API calls.
    func postSlackThreadReply(thread: String, text: String) async throws -> Int {
        let timestamp = Int(Date().timeIntervalSince1970)
        let body = #"{"type":"event_callback","team_id":"T0DEMO","event_id":"EvDEMO\#(timestamp)","event":{"type":"message","channel":"C0SUPPORT","user":"U0AGENT","text":"\#(text)","ts":"\#(timestamp).000900","thread_ts":"\#(thread)"}}"#
        return try await post(
            "/webhooks/slack/main", body: body,
            headers: PlatformSignatures.slack(Data(body.utf8), signingSecret: Self.slackSecret, timestamp: timestamp) + [("Content-Type", "application/json")])
    }

    static func messengerMessage(_ mid: String, _ fields: String, at ms: Int64, object: String = "page") -> String {
        #"{"object":"\#(object)","entry":[{"time":\#(ms),"id":"\#(messengerPage)","messaging":[{"sender":{"id":"\#(messengerUser)"},"recipient":{"id":"\#(messengerPage)"},"timestamp":\#(ms),"message":{"mid":"\#(mid)",\#(fields)}}]}]}"#
    }

    private func post(_ path: String, body: String, headers: [(String, String)]) async throws -> Int {
        var request = HTTPClientRequest(url: bridgeURL + path)
        request.method = .POST
        if !headers.contains(where: { $0.0 == "Content-Type" }) { request.headers.add(name: "Content-Type", value: "application/json") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        return Int(response.status.code)
    }

    static func lineEvent(_ id: String, _ type: String, _ fields: String, at ms: Int64) -> String {
        #"{"destination":"Ubot","events":[{"type":"\#(type)","timestamp":\#(ms),"webhookEventId":"01DEMO\#(id)","deliveryContext":{"isRedelivery":false},"replyToken":"demo-reply-\#(id)","mode":"active","source":{"type":"user","userId":"\#(lineUser)"}\#(fields)}]}"#
    }

    static func whatsappValue(_ inner: String) -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"\#(whatsappPhoneNumberId)"},\#(inner)}}]}]}"#
    }

    static func whatsappMessage(_ id: String, _ type: String, _ body: String, at seconds: Int64) -> String {
        whatsappValue(#""contacts":[{"profile":{"name":"Ana"},"wa_id":"\#(whatsappUser)"}],"messages":[{"from":"\#(whatsappUser)","id":"wamid.DEMO\#(id)","timestamp":"\#(seconds)","type":"\#(type)",\#(body)}]"#)
    }

    static func whatsappStatus(_ wamid: String, _ status: String, at seconds: Int64) -> String {
        whatsappValue(#""statuses":[{"id":"\#(wamid)","status":"\#(status)","timestamp":"\#(seconds)","recipient_id":"\#(whatsappUser)"}]"#)
    }

    /// Plays the conversations; returns how many webhooks the bridge acknowledged.
    func playConversations() async throws -> Int {
        let ms = Int64(Date().timeIntervalSince1970 * 1000) - 5000
        let s = ms / 1000
        let webhooks: [() async throws -> Int] = [
            { try await postLINE(Self.lineEvent("1", "follow", #","follow":{"isUnblocked":false}"#, at: ms)) },
            { try await postLINE(Self.lineEvent("2", "message", #","message":{"id":"500000000000000001","type":"text","quoteToken":"q1","text":"Hi! Where is my order #1234?"}"#, at: ms + 1)) },
            { try await postLINE(Self.lineEvent("3", "message", #","message":{"id":"500000000000000002","type":"image","quoteToken":"q2","contentProvider":{"type":"line"}}"#, at: ms + 2)) },
            { try await postWhatsApp(Self.whatsappMessage("1", "text", #""text":{"body":"Olá! Order status?"}"#, at: s)) },
            { try await postWhatsApp(Self.whatsappMessage("2", "location", #""location":{"latitude":-23.5505,"longitude":-46.6333,"name":"Home","address":"Av. Paulista 1000"}"#, at: s + 1)) },
            { try await postWhatsApp(Self.whatsappMessage("3", "interactive", #""interactive":{"type":"button_reply","button_reply":{"id":"track-order","title":"Track my order"}}"#, at: s + 2)) },
            { try await postMessenger(Self.messengerMessage("m_demo1", #""text":"Hallo! Can I change my delivery address?""#, at: ms + 3)) },
            { try await postMessenger(Self.messengerMessage("m_demo2", #""text":"Home","quick_reply":{"payload":"ADDRESS_HOME"}"#, at: ms + 4)) },
            // Ana again, by SMS from the same number: it joins her WhatsApp ticket.
            { try await postSMS([("MessageSid", "SMdemo1"), ("From", "+" + Self.whatsappUser), ("To", "+15552223333"), ("Body", "My data ran out, texting instead"), ("NumMedia", "0")]) },
            { try await postWeChat("24190000000000001", "你好，我的订单什么时候发货？", at: s + 5) },
            { try await postMessenger(Self.messengerMessage("m_ig1", #""text":"Saw your post, is the blue one in stock?""#, at: ms + 6, object: "instagram"), kind: "instagram") },
        ]
        var acknowledged = 0
        for webhook in webhooks where (200..<300).contains(try await webhook()) { acknowledged += 1 }
        return acknowledged
    }
}
