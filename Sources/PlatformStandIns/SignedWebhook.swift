import ChannelKit
import Foundation
import PlatformSignatures

/// A webhook as a platform delivers it to the bridge: the path, the body in the platform's own
/// format, and the headers (or query) that sign it. The demo and the cluster test post these.
public struct SignedWebhook: Sendable {
    public let path: String
    public let body: String
    public let headers: [(String, String)]

    public init(path: String, body: String, headers: [(String, String)]) {
        self.path = path
        self.body = body
        self.headers = headers
    }

    // MARK: Signing, one per platform

    /// A LINE body, signed with the channel secret.
    public static func line(_ body: String, account: String, channelSecret: String) -> SignedWebhook {
        SignedWebhook(
            path: "/webhooks/line/\(account)", body: body,
            headers: PlatformSignatures.line(Data(body.utf8), channelSecret: channelSecret) + [("Content-Type", "application/json")])
    }

    /// A Meta body (WhatsApp, Messenger, Instagram: `kind`), signed with the app secret.
    public static func meta(_ body: String, kind: String, account: String, appSecret: String) -> SignedWebhook {
        SignedWebhook(
            path: "/webhooks/\(kind)/\(account)", body: body,
            headers: PlatformSignatures.meta(Data(body.utf8), appSecret: appSecret) + [("Content-Type", "application/json")])
    }

    /// A Twilio form, signed for the URL the bridge is reached at (`publicBaseURL`, as Twilio signs it).
    public static func twilio(_ params: [(String, String)], account: String, authToken: String, publicBaseURL: String) -> SignedWebhook {
        let path = "/webhooks/sms/\(account)"
        return SignedWebhook(
            path: path, body: FormEncoding.encode(params),
            headers: PlatformSignatures.twilio(url: publicBaseURL + path, params: params, authToken: authToken)
                + [("Content-Type", "application/x-www-form-urlencoded")])
    }

    /// A WeChat text message in plaintext mode, signed in the query with the token.
    public static func wechat(
        account: String, token: String, from user: String, msgId: String, text: String, at seconds: Int64
    ) -> SignedWebhook {
        let query = PlatformSignatures.wechatQuery(token: token, timestamp: "\(seconds)", nonce: "n\(msgId)")
        let xml = "<xml><ToUserName><![CDATA[gh_bridge]]></ToUserName><FromUserName><![CDATA[\(user)]]></FromUserName><CreateTime>\(seconds)</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[\(text)]]></Content><MsgId>\(msgId)</MsgId></xml>"
        return SignedWebhook(path: "/webhooks/wechat/\(account)?\(query)&openid=\(user)", body: xml, headers: [("Content-Type", "text/xml")])
    }

    // MARK: Bodies in each platform's format

    /// A LINE webhook with one event of `type` from `user`; `fields` is the event's JSON after its
    /// common members, starting with a comma (e.g. `,"message":{…}`).
    public static func lineEvent(_ id: String, _ type: String, _ fields: String, from user: String, at ms: Int64) -> String {
        #"{"destination":"Ubot","events":[{"type":"\#(type)","timestamp":\#(ms),"webhookEventId":"01EV\#(id)","deliveryContext":{"isRedelivery":false},"replyToken":"reply-\#(id)","mode":"active","source":{"type":"user","userId":"\#(user)"}\#(fields)}]}"#
    }

    /// A LINE text message from `user` (message id `messageId`).
    public static func lineText(_ id: String, messageId: String, _ text: String, from user: String, at ms: Int64) -> String {
        lineEvent(id, "message", #","message":{"id":"\#(messageId)","type":"text","quoteToken":"q\#(id)","text":"\#(text)"}"#, from: user, at: ms)
    }

    /// A WhatsApp Cloud API webhook for the number `phoneNumberId` with `inner` (its `value`'s members).
    public static func whatsappValue(_ inner: String, phoneNumberId: String) -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"\#(phoneNumberId)"},\#(inner)}}]}]}"#
    }

    /// A WhatsApp message of `type` from `user` (named `name`), `body` its type's JSON member.
    public static func whatsappMessage(
        _ wamid: String, _ type: String, _ body: String, from user: String, name: String, phoneNumberId: String, at seconds: Int64
    ) -> String {
        whatsappValue(
            #""contacts":[{"profile":{"name":"\#(name)"},"wa_id":"\#(user)"}],"messages":[{"from":"\#(user)","id":"\#(wamid)","timestamp":"\#(seconds)","type":"\#(type)",\#(body)}]"#,
            phoneNumberId: phoneNumberId)
    }

    /// A WhatsApp delivery status for an outbound message.
    public static func whatsappStatus(_ wamid: String, _ status: String, to user: String, phoneNumberId: String, at seconds: Int64) -> String {
        whatsappValue(#""statuses":[{"id":"\#(wamid)","status":"\#(status)","timestamp":"\#(seconds)","recipient_id":"\#(user)"}]"#, phoneNumberId: phoneNumberId)
    }

    /// A Messenger Platform message (`object` "page" for Messenger, "instagram") from `user` to `page`.
    public static func messengerMessage(_ mid: String, _ fields: String, from user: String, page: String, at ms: Int64, object: String = "page") -> String {
        #"{"object":"\#(object)","entry":[{"time":\#(ms),"id":"\#(page)","messaging":[{"sender":{"id":"\#(user)"},"recipient":{"id":"\#(page)"},"timestamp":\#(ms),"message":{"mid":"\#(mid)",\#(fields)}}]}]}"#
    }
}
