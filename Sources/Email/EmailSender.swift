import ChannelKit
import Foundation

/// Makes the one-click unsubscribe URL of a campaign mail to `address` (the bridge's
/// `/unsubscribe/{token}` on `server.publicBaseURL`).
public protocol UnsubscribeLinkMaker: Sendable {
    func link(for address: String) async throws -> String
}

/// Campaign messages by e-mail through the relay: the text (with an image's link under it) in a
/// plain-text mail whose subject is the campaign's. Only text and image content can go.
///
/// Every campaign mail carries a one-click unsubscribe (RFC 8058 headers and a line at the end of
/// the text), as Gmail and Yahoo require of bulk mail; without a way to make the link (no
/// `server.publicBaseURL`) a campaign mail is refused, and the recipient skipped with
/// `no_unsubscribe_link`'s reason, rather than sent without one.
public struct EmailSender: MessageSender {
    public let mailer: SMTPMailer
    public let defaultRateLimit: RateLimit
    public let unsubscribeLinks: (any UnsubscribeLinkMaker)?

    /// `rateLimit`: the relay's sending limit (most relays allow a few to a few dozen a second).
    public init(mailer: SMTPMailer, rateLimit: RateLimit = RateLimit(perSecond: 10), unsubscribeLinks: (any UnsubscribeLinkMaker)? = nil) {
        self.mailer = mailer
        self.defaultRateLimit = rateLimit
        self.unsubscribeLinks = unsubscribeLinks
    }

    /// Why campaign mail cannot go when the bridge cannot make unsubscribe links.
    public static let noUnsubscribeLinkReason =
        "campaign e-mail needs a one-click unsubscribe link, which needs server.publicBaseURL (the address customers reach the bridge at)"

    public func refusal(for message: OutboundMessage) -> SendError? {
        if (try? EmailMessage.address(message.recipient)) == nil {
            return .permanent("invalid_email", "\(message.recipient.debugDescription) is not an e-mail address")
        }
        guard [.text, .image].contains(message.content.kind) else {
            return .permanent("unsupported_content", "e-mail carries text and images, not \(message.content.kind.rawValue)")
        }
        if case .broadcast = message.context.purpose, unsubscribeLinks == nil {
            return .permanent("no_unsubscribe_link", Self.noUnsubscribeLinkReason)
        }
        return nil
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        var text = [message.content.text, message.content.kind == .image ? message.content.media?.url : nil].compactMap { $0 }.joined(separator: "\n\n")
        var mail = EmailMessage(from: mailer.settings.from, to: message.recipient, subject: message.subject ?? "", text: text, id: message.id)
        if case .broadcast = message.context.purpose, let unsubscribeLinks {
            let link = try await unsubscribeLinks.link(for: try EmailMessage.address(message.recipient))
            text += "\n\n--\n" + Self.unsubscribeLine(link)
            mail.text = text
            mail.listUnsubscribe = link
        }
        do {
            try await mailer.send(mail)
        } catch let error as EmailError {
            throw SendError.permanent("invalid_email", error.description)
        }
        return SendReceipt(platformMessageId: message.id)
    }

    /// The unsubscribe line at the end of a campaign mail's text, in English and Japanese.
    public static func unsubscribeLine(_ link: String) -> String {
        "Unsubscribe / 配信停止: \(link)"
    }
}
