import ChannelKit
import Foundation

/// Campaign messages by e-mail through the relay: the text (with an image's link under it) in a
/// plain-text mail whose subject is the campaign's. Only text and image content can go.
public struct EmailSender: MessageSender {
    public let mailer: SMTPMailer
    public let defaultRateLimit: RateLimit

    /// `rateLimit`: the relay's sending limit (most relays allow a few to a few dozen a second).
    public init(mailer: SMTPMailer, rateLimit: RateLimit = RateLimit(perSecond: 10)) {
        self.mailer = mailer
        self.defaultRateLimit = rateLimit
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        if (try? EmailMessage.address(message.recipient)) == nil {
            return .permanent("invalid_email", "\(message.recipient.debugDescription) is not an e-mail address")
        }
        guard [.text, .image].contains(message.content.kind) else {
            return .permanent("unsupported_content", "e-mail carries text and images, not \(message.content.kind.rawValue)")
        }
        return nil
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        let text = [message.content.text, message.content.kind == .image ? message.content.media?.url : nil].compactMap { $0 }.joined(separator: "\n\n")
        let mail = EmailMessage(from: mailer.settings.from, to: message.recipient, subject: message.subject ?? "", text: text, id: message.id)
        do {
            try await mailer.send(mail)
        } catch let error as EmailError {
            throw SendError.permanent("invalid_email", error.description)
        }
        return SendReceipt(platformMessageId: message.id)
    }
}
