import Foundation
import UniversalInbox

/// The conversation a visitor asks for by e-mail, as plain text in the widget's language: the
/// business's name in the subject, then each message the visitor saw, oldest first, with its time
/// (in the business hours' time zone, else UTC) and who wrote it. Only what the visitor's own
/// conversation holds (`VisitorConversationStore`: never notes, never another visitor's), and
/// without the replies that failed (the visitor never got them).
struct VisitorTranscript: Sendable, Equatable {
    var subject: String
    var text: String

    enum Language: String, Sendable, Decodable {
        case en, ja
    }

    /// Nil when there is nothing to send (no message the visitor saw).
    static func make(business: String, messages: [StoredMessage], language: Language, timeZone: TimeZone) -> VisitorTranscript? {
        let shown = messages.filter { $0.direction == .inbound || $0.status != "failed" }
        guard !shown.isEmpty else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        // Foundation names UTC "GMT" on Linux; readers know it as UTC.
        let zone = timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier
        let you = language == .ja ? "あなた" : "You"
        let image = language == .ja ? "[画像]" : "[image]"
        var lines: [String] = []
        switch language {
        case .en:
            lines.append("Your conversation with \(business) (times in \(zone)):")
        case .ja:
            lines.append("\(business)とのチャットの記録です（時刻は\(zone)）。")
        }
        for message in shown {
            var body = message.content.kind == .image ? [image, message.content.text].compactMap { $0 }.joined(separator: " ") : message.text
            body = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\n    ")
            let who = message.direction == .inbound ? you : business
            lines.append("")
            lines.append("[\(formatter.string(from: message.createdAt))] \(who):")
            lines.append("    " + body)
        }
        lines.append("")
        lines.append(language == .ja
            ? "このメールはウェブサイトのチャットで依頼されたため送信しました。"
            : "You asked for this copy in the chat on our website.")
        let subject = language == .ja ? "\(business)とのチャットの記録" : "Your conversation with \(business)"
        return VisitorTranscript(subject: subject, text: lines.joined(separator: "\n"))
    }
}
