import ChannelKit
import Foundation

/// A received mail as the inbox's normalised events.
///
/// - A person's mail: one `message` event with the text (trimmed of quotes and signature; a mail
///   that answers nothing starts with its subject, which names the new conversation), then one
///   per attachment, media carried as a `data:` URL that the follow-up worker copies into the
///   attachment store like any platform's media (the channel's size limit applies there). The
///   eventId is the Message-ID (attachments `<Message-ID>#<n>`), so fetching a mail again files
///   nothing new. The sender is the address with ASCII letters lowered, as contacts' e-mail
///   addresses are matched. Each carries its `MessageThread` (In-Reply-To, References, the
///   subject's `[#n]`, and the subject a new ticket keeps for the replies): the ingest files it
///   into the ticket it answers, or opens a new one.
/// - An auto-reply or bulk mail: nothing (never a ticket, never an auto-acknowledgement).
/// - A bounce naming a Message-ID we sent: a `failed` receipt for that message with the reason.
public enum MailEvents {
    public static func events(from mail: ParsedMail, raw: Data, receivedAt: Date) throws(WebhookError) -> [InboundEvent] {
        let eventId = mail.messageId ?? "sha256:" + Signatures.sha256Hex(raw)
        // When the mailbox received it, not the Date header: that is the sender's clock (a PC's, often
        // minutes off), and a conversation is shown in the order its messages arrived.
        let occurredAt = receivedAt
        switch mail.origin {
        case .automatic:
            return []
        case .bounce(let original, let reason):
            guard let original else { return [] }
            return [
                InboundEvent(
                    kind: .receipt, eventId: eventId, occurredAt: occurredAt,
                    receipt: DeliveryReceipt(messageId: original, status: .failed, errorCode: "bounced", errorMessage: String(reason.prefix(500)))),
            ]
        case .person:
            break
        }
        guard let from = mail.from else { throw .malformed("the mail has no sender address (From)") }
        let sender = Sender(id: from.key, displayName: from.name)
        let isReply = !mail.threadIds.isEmpty || mail.ticketToken != nil
        var text = mail.text
        if !isReply, !mail.subject.isEmpty { text = text.isEmpty ? mail.subject : mail.subject + "\n\n" + text }
        // The ticket it answers, or (none) a new one; the mail's later parts follow its first.
        let subject = mail.subject.trimmingCharacters(in: .whitespacesAndNewlines)
        let thread = MessageThread(
            references: mail.threadIds, ticketNumber: mail.ticketToken.map(Int64.init),
            subject: subject.isEmpty ? nil : String(String.UnicodeScalarView(subject.unicodeScalars.prefix(MessageThread.maxSubjectLength))))
        var first: String?
        func threadOf(_ id: String) -> MessageThread {
            defer { first = first ?? id }
            return first.map { MessageThread(references: [$0]) } ?? thread
        }
        var events: [InboundEvent] = []
        if !text.isEmpty || mail.attachments.isEmpty {
            events.append(InboundEvent(
                kind: .message, eventId: eventId, occurredAt: occurredAt, sender: sender,
                message: InboundMessage(id: eventId, content: .text(text.isEmpty ? "(empty message)" : text), thread: threadOf(eventId))))
        }
        for (index, attachment) in mail.attachments.enumerated() {
            let kind: MessageContent.Kind =
                attachment.mimeType.hasPrefix("image/") ? .image : attachment.mimeType.hasPrefix("video/") ? .video
                : attachment.mimeType.hasPrefix("audio/") ? .audio : .file
            let media = MediaReference(
                url: "data:\(attachment.mimeType);base64,\(attachment.data.base64EncodedString())", mimeType: attachment.mimeType,
                fileName: attachment.fileName, size: attachment.data.count)
            let id = "\(eventId)#\(index + 1)"
            events.append(InboundEvent(
                kind: .message, eventId: id, occurredAt: occurredAt, sender: sender,
                message: InboundMessage(id: id, content: MessageContent(kind: kind, media: media), thread: threadOf(id))))
        }
        return events
    }

    /// The bytes of a `data:…;base64,…` URL made by `events(from:)`, refusing more than `maxBytes`.
    public static func data(fromDataURL url: String, maxBytes: Int) throws -> DownloadedMedia {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else {
            throw SendError.permanent("bad_media", "not an attachment of a received mail")
        }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { throw SendError.permanent("bad_media", "not an attachment of a received mail") }
        // Base64 is 4 characters for 3 bytes: check the size before decoding.
        let encoded = url[url.index(after: comma)...]
        guard encoded.utf8.count / 4 * 3 <= maxBytes + 2 else { throw SendError.permanent("too_large", "the attachment is larger than \(maxBytes) bytes") }
        guard let data = Data(base64Encoded: String(encoded)), data.count <= maxBytes else {
            throw SendError.permanent("too_large", "the attachment is larger than \(maxBytes) bytes")
        }
        return DownloadedMedia(data: data, mimeType: String(header.dropLast(";base64".count)))
    }
}
