import ChannelKit
import Foundation

/// Turns Messenger Platform `messaging[]` items into normalised events. Our own echoes are skipped.
enum MessengerEventMapper {
    /// Chat-plugin guests have no page-scoped id; their identity is their `user_ref` behind this prefix.
    static let guestPrefix = "user_ref:"

    static func events(from payload: MessengerWebhookPayload, body: Data, receivedAt: Date) -> ParsedWebhook {
        var parsed = ParsedWebhook()
        for entry in payload.entry {
            for item in entry.messaging ?? [] {
                item.read(into: &parsed, body: body) { m throws(WebhookError) in try events(m, entryTime: entry.time, receivedAt: receivedAt) }
            }
        }
        return parsed
    }

    static func events(_ item: MessengerWebhookPayload.Messaging, entryTime: Int64?, receivedAt: Date) throws(WebhookError) -> [InboundEvent] {
        // Policy-enforcement notices concern the Page, not a customer.
        guard let party = item.sender else { return [] }
        guard let senderId = party.id?.text ?? party.user_ref.map({ guestPrefix + $0 }), !senderId.isEmpty else {
            throw .malformed("sender has neither id nor user_ref")
        }
        let stamp = item.timestamp ?? entryTime
        let at = try stamp.map { ms throws(WebhookError) in try PlatformTime.milliseconds(ms, field: "timestamp") } ?? receivedAt
        let sender = Sender(id: senderId)
        let timeKey = stamp.map(String.init) ?? "\(Int64(receivedAt.timeIntervalSince1970 * 1000))"
        if let message = item.message {
            guard message.is_echo != true else { return [] }
            return contents(of: message).enumerated().map { index, content in
                // Several attachments in one message become one event each.
                let id = index == 0 ? message.mid : "\(message.mid)#\(index)"
                return InboundEvent(kind: .message, eventId: id, occurredAt: at, sender: sender, message: InboundMessage(id: id, content: content))
            }
        }
        if let postback = item.postback {
            let id = postback.mid ?? "postback:\(senderId):\(timeKey)"
            return [InboundEvent(
                kind: .message, eventId: id, occurredAt: at, sender: sender,
                message: InboundMessage(id: id, content: MessageContent(kind: .postback, text: postback.title, postback: postback.payload)))]
        }
        if let delivery = item.delivery {
            guard let mids = delivery.mids, !mids.isEmpty else {
                return [try watermark(.delivered, delivery.watermark, sender: sender, at: at)]
            }
            return mids.map {
                InboundEvent(kind: .receipt, eventId: "delivered:\($0)", occurredAt: at, sender: sender, receipt: DeliveryReceipt(messageId: $0, status: .delivered))
            }
        }
        if let read = item.read {
            if let mid = read.mid {
                return [InboundEvent(kind: .receipt, eventId: "read:\(mid)", occurredAt: at, sender: sender, receipt: DeliveryReceipt(messageId: mid, status: .read))]
            }
            if let mark = read.watermark { return [try watermark(.read, mark, sender: sender, at: at)] }
        }
        // Reactions, opt-ins, referrals, account linking and handover events carry no customer message.
        return []
    }

    private static func watermark(_ status: DeliveryStatus, _ ms: Int64, sender: Sender, at: Date) throws(WebhookError) -> InboundEvent {
        InboundEvent(
            kind: .receipt, eventId: "\(status.rawValue):\(sender.id):\(ms)", occurredAt: at, sender: sender,
            receipt: DeliveryReceipt(upTo: try PlatformTime.milliseconds(ms, field: "watermark"), status: status))
    }

    static func contents(of message: MessengerWebhookPayload.Message) -> [MessageContent] {
        if let reply = message.quick_reply {
            return [MessageContent(kind: .postback, text: message.text, postback: reply.payload)]
        }
        let attachments = message.attachments ?? []
        if attachments.isEmpty { return [.text(message.text ?? "")] }
        return attachments.enumerated().map { index, attachment in
            // The text, if any, captions the first attachment.
            content(of: attachment, caption: index == 0 ? message.text : nil, stickerId: message.sticker_id)
        }
    }

    static func content(of attachment: MessengerWebhookPayload.Attachment, caption: String?, stickerId: FlexibleID?) -> MessageContent {
        let url = attachment.payload?.url
        switch attachment.type {
        case "image" where stickerId != nil || attachment.payload?.sticker_id != nil:
            let id = stickerId ?? attachment.payload?.sticker_id
            return MessageContent(kind: .sticker, text: caption, media: MediaReference(url: url), sticker: Sticker(stickerId: id?.text ?? ""))
        case "image", "video", "audio", "file":
            return MessageContent(kind: MessageContent.Kind(rawValue: attachment.type) ?? .file, text: caption, media: MediaReference(url: url))
        case "location":
            guard let c = attachment.payload?.coordinates else { return MessageContent(kind: .unsupported, text: "location without coordinates") }
            return MessageContent(kind: .location, text: caption, location: Location(latitude: c.lat, longitude: c.long))
        default:
            // Instagram story mentions, shares and reels, fallback links, templates.
            let label = "unsupported \(attachment.type) attachment" + (url.map { ": \($0)" } ?? "")
            return MessageContent(kind: .unsupported, text: caption.map { "\($0) (\(label))" } ?? label)
        }
    }
}
