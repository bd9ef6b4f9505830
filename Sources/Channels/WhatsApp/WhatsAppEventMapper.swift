import ChannelKit
import Foundation

/// Turns Cloud API webhook values into normalised events.
enum WhatsAppEventMapper {
    static func events(from payload: WhatsAppWebhookPayload, phoneNumberId: String) throws(WebhookError) -> [InboundEvent] {
        guard payload.object == "whatsapp_business_account" else {
            throw .malformed("object is \(payload.object), expected whatsapp_business_account")
        }
        var events: [InboundEvent] = []
        for entry in payload.entry {
            for change in entry.changes where change.field == "messages" {
                let value = change.value
                // A value for another number of the same app is not this account's.
                if let id = value.metadata?.phone_number_id, id != phoneNumberId { continue }
                let names = Dictionary(
                    (value.contacts ?? []).compactMap { c in c.wa_id.map { ($0, c.profile?.name) } },
                    uniquingKeysWith: { first, _ in first })
                for message in value.messages ?? [] {
                    let sender = Sender(id: message.from, displayName: names[message.from] ?? nil, phone: message.from)
                    events.append(InboundEvent(
                        kind: .message, eventId: message.id, occurredAt: date(message.timestamp), sender: sender,
                        message: InboundMessage(id: message.id, content: content(of: message))))
                }
                for status in value.statuses ?? [] {
                    guard let mapped = deliveryStatus(status.status) else { continue }
                    let error = status.errors?.first
                    events.append(InboundEvent(
                        kind: .receipt, eventId: "\(status.id):\(status.status)", occurredAt: date(status.timestamp),
                        receipt: DeliveryReceipt(
                            messageId: status.id, status: mapped, errorCode: error.map { String($0.code) },
                            errorMessage: error.flatMap { $0.message ?? $0.title })))
                }
            }
        }
        return events
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

    static func date(_ seconds: String) -> Date {
        Date(timeIntervalSince1970: Double(seconds) ?? 0)
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
