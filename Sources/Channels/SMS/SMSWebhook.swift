import ChannelKit
import Foundation

/// Twilio's form posts: inbound messages (with MMS media and opt-out keywords) and status callbacks.
enum SMSWebhook {
    static let optOutWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
    static let optInWords: Set<String> = ["START", "YES", "UNSTOP"]

    static func events(from params: [(String, String)], receivedAt: Date) throws(WebhookError) -> [InboundEvent] {
        let fields = Dictionary(params, uniquingKeysWith: { first, _ in first })
        guard let sid = fields["MessageSid"] ?? fields["SmsMessageSid"] ?? fields["SmsSid"], !sid.isEmpty else {
            throw .malformed("missing field MessageSid")
        }
        if let status = fields["MessageStatus"], fields["Body"] == nil {
            return receipt(sid: sid, status: status, errorCode: fields["ErrorCode"], at: receivedAt).map { [$0] } ?? []
        }
        guard let from = fields["From"], !from.isEmpty else { throw .malformed("missing field From") }
        let sender = Sender(id: from, phone: digits(from))
        let body = fields["Body"] ?? ""
        var events = contents(fields, body: body).enumerated().map { index, content in
            let id = index == 0 ? sid : "\(sid)#\(index)"
            return InboundEvent(kind: .message, eventId: id, occurredAt: receivedAt, sender: sender, message: InboundMessage(id: id, content: content))
        }
        let keyword = (fields["OptOutType"] ?? body).trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if optOutWords.contains(keyword) {
            events.append(InboundEvent(kind: .unfollow, eventId: "optout:\(sid)", occurredAt: receivedAt, sender: sender))
        } else if optInWords.contains(keyword) {
            events.append(InboundEvent(kind: .follow, eventId: "optin:\(sid)", occurredAt: receivedAt, sender: sender))
        }
        return events
    }

    /// Twilio attaches at most 10 media items to a message.
    static let maxMedia = 10

    /// The text, or one content per MMS media item (the text captions the first). `NumMedia` is
    /// read as a count of at most `maxMedia`, whatever the post says.
    static func contents(_ fields: [String: String], body: String) -> [MessageContent] {
        let count = min(max(Int(fields["NumMedia"] ?? "0") ?? 0, 0), maxMedia)
        guard count > 0 else { return [.text(body)] }
        return (0..<count).compactMap { i in
            guard let url = fields["MediaUrl\(i)"] else { return nil }
            let type = fields["MediaContentType\(i)"]
            let kind: MessageContent.Kind =
                switch type?.split(separator: "/").first {
                case "image": .image
                case "video": .video
                case "audio": .audio
                default: .file
                }
            return MessageContent(kind: kind, text: i == 0 && !body.isEmpty ? body : nil, media: MediaReference(url: url, mimeType: type))
        }
    }

    static func receipt(sid: String, status: String, errorCode: String?, at: Date) -> InboundEvent? {
        let mapped: DeliveryStatus
        switch status {
        case "sent": mapped = .sent
        case "delivered": mapped = .delivered
        case "read": mapped = .read
        case "undelivered", "failed", "canceled": mapped = .failed
        default: return nil  // queued, accepting, sending, scheduled: nothing new for the agent
        }
        return InboundEvent(
            kind: .receipt, eventId: "\(sid):\(status)", occurredAt: at,
            receipt: DeliveryReceipt(
                messageId: sid, status: mapped, errorCode: errorCode.flatMap { $0.isEmpty ? nil : $0 },
                errorMessage: mapped == .failed ? "Twilio reported \(status)" : nil))
    }

    static func digits(_ phone: String) -> String { phone.filter(\.isNumber) }

    /// The string Twilio signs: the full URL, then each parameter as name+value, sorted.
    static func signedString(url: String, params: [(String, String)]) -> String {
        url + params.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
    }
}
