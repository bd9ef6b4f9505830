import ChannelKit
import Foundation

/// Turns a WeChat message or event (its XML fields) into a normalised event.
enum WeChatEventMapper {
    static func events(from f: [String: String]) throws(WebhookError) -> [InboundEvent] {
        guard let openId = f["FromUserName"], !openId.isEmpty else { throw .malformed("missing field FromUserName") }
        guard let type = f["MsgType"] else { throw .malformed("missing field MsgType") }
        guard let created = f["CreateTime"] else { throw .malformed("missing field CreateTime") }
        let at = try PlatformTime.seconds(created, field: "CreateTime")
        let sender = Sender(id: openId)
        if type == "event" {
            let event = f["Event"] ?? ""
            // Events have no MsgId: WeChat's own rule is sender + CreateTime (+ the event).
            let eventId = "\(openId):\(f["CreateTime"] ?? ""):\(event)"
            switch event.lowercased() {
            case "subscribe": return [InboundEvent(kind: .follow, eventId: eventId, occurredAt: at, sender: sender)]
            case "unsubscribe": return [InboundEvent(kind: .unfollow, eventId: eventId, occurredAt: at, sender: sender)]
            case "click":
                return [InboundEvent(
                    kind: .message, eventId: eventId, occurredAt: at, sender: sender,
                    message: InboundMessage(id: eventId, content: MessageContent(kind: .postback, postback: f["EventKey"] ?? "")))]
            case "scancode_push", "scancode_waitmsg":
                // A menu button that scans a code: what was scanned is the customer's answer.
                return [InboundEvent(
                    kind: .message, eventId: eventId, occurredAt: at, sender: sender,
                    message: InboundMessage(
                        id: eventId, content: MessageContent(kind: .postback, text: f["ScanCodeInfo.ScanResult"], postback: f["EventKey"] ?? "")))]
            default:
                // SCAN, LOCATION reports, VIEW, pic_* and location_select (the pictures and the
                // location also arrive as ordinary messages), MASSSENDJOBFINISH and template job results.
                return []
            }
        }
        guard let msgId = f["MsgId"], !msgId.isEmpty else { throw .malformed("missing field MsgId") }
        return [InboundEvent(kind: .message, eventId: msgId, occurredAt: at, sender: sender, message: InboundMessage(id: msgId, content: try content(type, f)))]
    }

    /// A latitude or longitude: a finite number of degrees.
    static func coordinate(_ text: String?, _ field: String) throws(WebhookError) -> Double {
        guard let text, let value = Double(text), value.isFinite, abs(value) <= 180 else { throw .malformed("\(field) is not a coordinate") }
        return value
    }

    static func content(_ type: String, _ f: [String: String]) throws(WebhookError) -> MessageContent {
        switch type {
        case "text":
            return .text(f["Content"] ?? "")
        case "image":
            return MessageContent(kind: .image, media: MediaReference(platformId: f["MediaId"], url: f["PicUrl"]))
        case "voice":
            let format = f["Format"]?.lowercased()
            let recognition = f["Recognition"].flatMap { $0.isEmpty ? nil : $0 }
            return MessageContent(kind: .audio, text: recognition, media: MediaReference(platformId: f["MediaId"], mimeType: format.map { "audio/\($0)" }))
        case "video", "shortvideo":
            return MessageContent(kind: .video, media: MediaReference(platformId: f["MediaId"]))
        case "location":
            return MessageContent(
                kind: .location,
                location: Location(latitude: try coordinate(f["Location_X"], "Location_X"), longitude: try coordinate(f["Location_Y"], "Location_Y"), address: f["Label"]))
        case "link":
            return .text([f["Title"], f["Description"], f["Url"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n"))
        default:
            return MessageContent(kind: .unsupported, text: "unsupported WeChat message type \(type)")
        }
    }
}

/// `{errcode, errmsg}` (WeChat answers HTTP 200 with an error code).
struct WeChatAnswer: Decodable, Error {
    var errcode: Int?
    var errmsg: String?
    var access_token: String?
    var expires_in: Double?
    var media_id: String?
    var video_url: String?
    var msg_id: Int64?
}

/// `message/mass/send`: text to a list of followers' OpenIDs; `clientmsgid` makes a resend a no-op.
struct WeChatMassBody: Encodable {
    struct Text: Encodable { var content: String }
    var touser: [String]
    var msgtype = "text"
    var text: Text
    var clientmsgid: String
}

/// The customer-service message body.
struct WeChatCustomBody: Encodable {
    struct Text: Encodable { var content: String }
    struct Media: Encodable { var media_id: String }
    var touser: String
    var msgtype: String
    var text: Text?
    var image: Media?
}
