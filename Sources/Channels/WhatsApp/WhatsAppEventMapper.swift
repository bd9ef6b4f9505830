import ChannelKit
import Foundation

/// Turns Cloud API webhook values into normalised events.
enum WhatsAppEventMapper {
    static func events(from payload: WhatsAppWebhookPayload, body: Data, phoneNumberId: String) throws(WebhookError) -> ParsedWebhook {
        guard payload.object == "whatsapp_business_account" else {
            throw .malformed("object is \(payload.object), expected whatsapp_business_account")
        }
        var parsed = ParsedWebhook()
        for entry in payload.entry {
            for item in entry.changes {
                guard case .success(let change) = item.decoded else {
                    item.read(into: &parsed, body: body) { _ throws(WebhookError) in [] }
                    continue
                }
                // Other fields (account updates, template status, ...) carry no customer message.
                guard change.field == "messages" else { continue }
                let value = change.value
                // A value for another number of the same app is not this account's.
                if let id = value.metadata?.phone_number_id, id.text != phoneNumberId { continue }
                var names: [String: String] = [:]
                for contact in value.contacts ?? [] {
                    guard let name = contact.profile?.name else { continue }
                    for id in [contact.wa_id, contact.user_id].compactMap({ $0 }) where names[id] == nil { names[id] = name }
                }
                for message in value.messages ?? [] {
                    message.read(into: &parsed, body: body) { m throws(WebhookError) in [try event(m, names: names)] }
                }
                for status in value.statuses ?? [] {
                    status.read(into: &parsed, body: body) { s throws(WebhookError) in try receipt(s).map { [$0] } ?? [] }
                }
            }
        }
        return parsed
    }

    static func event(_ message: WhatsAppWebhookPayload.Message, names: [String: String]) throws(WebhookError) -> InboundEvent {
        // The phone number when the customer shared it; otherwise the business-scoped user id.
        let sender: Sender
        if let phone = message.from, !phone.isEmpty {
            sender = Sender(id: phone, displayName: names[phone] ?? message.from_user_id.flatMap { names[$0] }, phone: phone)
        } else if let userId = message.from_user_id, !userId.isEmpty {
            sender = Sender(id: userId, displayName: names[userId])
        } else {
            throw .malformed("message without from or from_user_id")
        }
        return InboundEvent(
            kind: .message, eventId: message.id, occurredAt: try PlatformTime.seconds(message.timestamp.text, field: "timestamp"), sender: sender,
            message: InboundMessage(id: message.id, content: content(of: message)))
    }

    static func receipt(_ status: WhatsAppWebhookPayload.Status) throws(WebhookError) -> InboundEvent? {
        guard let mapped = deliveryStatus(status.status) else { return nil }
        let error = status.errors?.first
        return InboundEvent(
            kind: .receipt, eventId: "\(status.id):\(status.status)", occurredAt: try PlatformTime.seconds(status.timestamp.text, field: "timestamp"),
            receipt: DeliveryReceipt(
                messageId: status.id, status: mapped, errorCode: error.map(\.code.text),
                errorMessage: error.flatMap { $0.message ?? $0.title }))
    }

    static func deliveryStatus(_ raw: String) -> DeliveryStatus? {
        switch raw {
        case "sent": .sent
        case "delivered": .delivered
        case "read", "played": .read
        case "failed": .failed
        default: nil
        }
    }

    static func content(of m: WhatsAppWebhookPayload.Message) -> MessageContent {
        func media(_ kind: MessageContent.Kind, _ media: WhatsAppWebhookPayload.Media?) -> MessageContent {
            guard let media else { return MessageContent(kind: .unsupported, text: "WhatsApp \(m.type) without media") }
            return MessageContent(
                kind: kind, text: media.caption,
                media: MediaReference(platformId: media.id, mimeType: media.mime_type, fileName: media.filename, sha256: media.sha256))
        }
        switch m.type {
        case "text": return .text(m.text?.body ?? "")
        case "image": return media(.image, m.image)
        case "video": return media(.video, m.video)
        case "audio": return media(.audio, m.audio)
        case "document": return media(.file, m.document)
        case "sticker":
            guard let s = m.sticker else { return MessageContent(kind: .unsupported, text: "WhatsApp sticker without media") }
            return MessageContent(
                kind: .sticker, media: MediaReference(platformId: s.id, mimeType: s.mime_type, sha256: s.sha256),
                sticker: Sticker(stickerId: s.id))
        case "location":
            guard let l = m.location else { return MessageContent(kind: .unsupported, text: "WhatsApp location without coordinates") }
            return MessageContent(kind: .location, location: Location(latitude: l.latitude, longitude: l.longitude, title: l.name, address: l.address))
        case "interactive":
            guard let reply = m.interactive?.button_reply ?? m.interactive?.list_reply else {
                return MessageContent(kind: .unsupported, text: "WhatsApp interactive \(m.interactive?.type ?? "")")
            }
            return MessageContent(kind: .postback, text: reply.title, postback: reply.id)
        case "button":
            return MessageContent(kind: .postback, text: m.button?.text, postback: m.button?.payload)
        default:
            return MessageContent(kind: .unsupported, text: "unsupported WhatsApp message type \(m.type)")
        }
    }
}
