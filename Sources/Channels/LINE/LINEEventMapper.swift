import ChannelKit
import Foundation

/// Turns LINE webhook events into normalised events.
enum LINEEventMapper {
    static func events(from payload: LINEWebhookPayload, body: Data) -> ParsedWebhook {
        var parsed = ParsedWebhook()
        for item in payload.events {
            item.read(into: &parsed, body: body) { e throws(WebhookError) in try event(e).map { [$0] } ?? [] }
        }
        return parsed
    }

    static func event(_ e: LINEEvent) throws(WebhookError) -> InboundEvent? {
        let at = try PlatformTime.milliseconds(e.timestamp, field: "timestamp")
        guard let userId = e.source?.userId ?? e.source?.groupId ?? e.source?.roomId else { return nil }
        let sender = Sender(id: userId)
        switch e.type {
        case "message":
            guard let m = e.message else { throw .malformed("message event without message") }
            let eventId = e.webhookEventId ?? "message:\(m.id)"
            return InboundEvent(
                kind: .message, eventId: eventId, occurredAt: at, sender: sender,
                message: InboundMessage(id: m.id.text, content: content(of: m), replyToken: e.replyToken))
        case "postback":
            guard let p = e.postback else { throw .malformed("postback event without postback") }
            let eventId = e.webhookEventId ?? "postback:\(userId):\(e.timestamp)"
            return InboundEvent(
                kind: .message, eventId: eventId, occurredAt: at, sender: sender,
                message: InboundMessage(id: eventId, content: MessageContent(kind: .postback, postback: p.data), replyToken: e.replyToken))
        case "follow", "unfollow":
            let eventId = e.webhookEventId ?? "\(e.type):\(userId):\(e.timestamp)"
            return InboundEvent(kind: e.type == "follow" ? .follow : .unfollow, eventId: eventId, occurredAt: at, sender: sender)
        default:
            // join/leave/member/unsend/beacon events carry no customer message.
            return nil
        }
    }

    static func content(of m: LINEEvent.Message) -> MessageContent {
        switch m.type {
        case "text":
            return .text(m.text ?? "")
        case "image", "video", "audio", "file":
            let kind = MessageContent.Kind(rawValue: m.type) ?? .file
            let media: MediaReference
            if let provider = m.contentProvider, provider.type == "external" {
                media = MediaReference(url: provider.originalContentUrl, previewURL: provider.previewImageUrl, fileName: m.fileName, size: m.fileSize)
            } else {
                media = MediaReference(platformId: m.id.text, fileName: m.fileName, size: m.fileSize)
            }
            return MessageContent(kind: kind, media: media)
        case "location":
            return MessageContent(
                kind: .location,
                location: Location(latitude: m.latitude ?? 0, longitude: m.longitude ?? 0, title: m.title, address: m.address))
        case "sticker":
            return MessageContent(kind: .sticker, text: m.text, sticker: Sticker(packageId: m.packageId?.text, stickerId: m.stickerId?.text ?? ""))
        default:
            return MessageContent(kind: .unsupported, text: "unsupported LINE message type \(m.type)")
        }
    }
}
