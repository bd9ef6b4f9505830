import ChannelKit
import Foundation

/// Makes the one-click unsubscribe URL of a campaign mail to `address` (the bridge's
/// `/unsubscribe/{token}` on `server.publicBaseURL`).
public protocol UnsubscribeLinkMaker: Sendable {
    func link(for address: String) async throws -> String
}

/// Messages by e-mail through the relay: the text (with an image's link under it), as plain text
/// and the same as HTML. Only text and image content can go.
///
/// - A campaign's mail has the campaign's subject, from the relay's `from`.
/// - A reply in a conversation (`message.thread`, which the outbox gives e-mail accounts' replies)
///   comes from the support address, answers the conversation (`In-Reply-To`, `References`) and is
///   titled `Re: <the ticket's subject> [#<ticket>]`, so the customer's mail program threads it and
///   the customer's answer finds its ticket by either.
/// - The receipt's id is the mail's Message-ID, which bounces and answers name.
///
/// Every campaign mail carries a one-click unsubscribe (RFC 8058 headers and a line at the end of
/// the text), as Gmail and Yahoo require of bulk mail; without a way to make the link (no
/// `server.publicBaseURL`) a campaign mail is refused, and the recipient skipped with
/// `no_unsubscribe_link`'s reason, rather than sent without one.
public struct EmailSender: MessageSender {
    public let mailer: SMTPMailer
    public let defaultRateLimit: RateLimit
    public let unsubscribeLinks: (any UnsubscribeLinkMaker)?
    /// The From of these mails: the relay's, or a support mailbox's (`Name <address>`).
    public let from: String

    /// `rateLimit`: the relay's sending limit (most relays allow a few to a few dozen a second).
    public init(
        mailer: SMTPMailer, rateLimit: RateLimit = RateLimit(perSecond: 10), unsubscribeLinks: (any UnsubscribeLinkMaker)? = nil, from: String? = nil
    ) {
        self.mailer = mailer
        self.defaultRateLimit = rateLimit
        self.unsubscribeLinks = unsubscribeLinks
        self.from = from ?? mailer.settings.from
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
        if message.context.purpose.isBroadcast, unsubscribeLinks == nil {
            return .permanent("no_unsubscribe_link", Self.noUnsubscribeLinkReason)
        }
        return nil
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        var text = [message.content.text, message.content.kind == .image ? message.content.media?.url : nil].compactMap { $0 }.joined(separator: "\n\n")
        var mail = EmailMessage(
            from: from, to: message.recipient, subject: message.thread.map(Self.replySubject) ?? message.subject ?? "", text: text, id: message.id,
            answering: message.thread?.references ?? [], autoSubmitted: message.automatic)
        if message.context.purpose.isBroadcast, let unsubscribeLinks {
            let link = try await unsubscribeLinks.link(for: try EmailMessage.address(message.recipient))
            text += "\n\n--\n" + Self.unsubscribeLine(link)
            mail.text = text
            mail.listUnsubscribe = link
        }
        mail.html = EmailMessage.html(fromText: mail.text)
        do {
            try await mailer.send(mail, bulk: message.context.purpose.isBroadcast)
            return SendReceipt(platformMessageId: try mail.messageId())
        } catch let error as EmailError {
            throw SendError.permanent("invalid_email", error.description)
        }
    }

    /// `Re: <subject> [#<ticket>]`: the conversation's subject (one `Re:`, and without the `[#n]`
    /// tokens it had, such as another helpdesk's), and the ticket's token last, which files the
    /// customer's answer even from a mail program that drops the references.
    public static func replySubject(_ thread: MessageThread) -> String {
        var subject = (thread.subject ?? "").replacing(/\[#[0-9]{1,12}\]/, with: "").split(separator: " ", omittingEmptySubsequences: true)
            .joined(separator: " ")
        while let prefix = ["re:", "aw:", "sv:"].first(where: { subject.lowercased().hasPrefix($0) }) {
            subject = subject.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        }
        let parts = ["Re:", subject.isEmpty ? nil : subject, thread.ticketNumber.map { "[#\($0)]" }]
        return parts.compactMap { $0 }.joined(separator: " ")
    }

    /// The unsubscribe line at the end of a campaign mail's text, in English and Japanese.
    public static func unsubscribeLine(_ link: String) -> String {
        "Unsubscribe / 配信停止: \(link)"
    }
}
