import Email
import Foundation
import Hummingbird
import UniversalInbox

/// `POST transcript`: the visitor has their conversation mailed to them (`VisitorTranscript`),
/// through the bridge's SMTP relay.
///
/// It sends mail to an address a stranger types, so it is limited hard, per visitor, per
/// recipient address and per client address (`WidgetThrottle.Limits.transcripts…`: three an hour
/// to one visitor or one recipient, ten an hour from one client address), and sends only the
/// visitor's own conversation under the business's name: not a relay for anything else. Refused:
/// 401 without a visitor token, 503 `mail_unavailable` with no relay configured (the session's
/// `settings.transcript` is false then and the widget hides the button), 400 `invalid_email`,
/// 422 `nothing_to_send` before the visitor wrote anything, 429 `rate_limited`. A relay failure
/// is 502 `mail_not_sent` (the visitor can try again), never a silent success.
extension WidgetController {
    struct TranscriptBody: Decodable {
        var email: String
        var language: VisitorTranscript.Language?
    }

    /// The most messages a transcript holds (the oldest first): a chat, not an archive.
    static let maxTranscriptMessages = 2_000

    func transcript(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await visitor(request, context)
        guard let mailer else {
            throw APIError(status: .serviceUnavailable, code: "mail_unavailable", message: "this chat cannot send e-mail (the bridge has no mail relay)")
        }
        let body = try await request.decode(TranscriptBody.self, maxBytes: 4096)
        let email = body.email.trimmingCharacters(in: .whitespaces)
        guard Self.isPlainAddress(email) else { throw APIError.badRequest("invalid_email", "\(body.email) is not an e-mail address") }
        do {
            try await throttle.transcript(account: adapter.account.key, visitorId: visitorId, recipient: email, address: clientAddress(request, context))
        } catch let error as WidgetThrottle.Limited {
            throw Self.limited(error)
        }
        var messages: [StoredMessage] = []
        while messages.count < Self.maxTranscriptMessages {
            let page = try await inbox.visitorMessages(account: adapter.account.key, visitorId: visitorId, after: messages.last?.id ?? 0, limit: 500)
            messages += page
            if page.count < 500 { break }
        }
        let zone = try await inbox.businessHours(department: nil).flatMap { TimeZone(identifier: $0.timeZone) } ?? TimeZone(identifier: "UTC")!
        guard let transcript = VisitorTranscript.make(
            business: adapter.configuration.name, messages: Array(messages.prefix(Self.maxTranscriptMessages)), language: body.language ?? .en, timeZone: zone)
        else { throw APIError.unprocessable("nothing_to_send", "there is no conversation to send yet") }
        do {
            try await mailer.send(EmailMessage(
                from: mailer.settings.from, to: email, subject: transcript.subject, text: transcript.text, id: "transcript-\(UUID().uuidString.lowercased())",
                date: clock()))
        } catch {
            // The address is the visitor's to know; the log keeps only that it failed, and why.
            context.logger.warning("widget transcript not sent", metadata: ["error": "\(error)"])
            throw APIError(status: .badGateway, code: "mail_not_sent", message: "the e-mail could not be sent; try again in a moment")
        }
        metrics.webhook(channel: "webchat", outcome: "transcript_sent")
        return JSONResponse.make(["sent": true], status: .accepted)
    }

    /// An address as `TextRules.isEmail` has it, in printable ASCII without the characters that
    /// mean something in a mail header (`<>,;:"()[]\`): what goes in `To:` is only an address.
    static func isPlainAddress(_ text: String) -> Bool {
        TextRules.isEmail(text) && text.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) && !#"<>,;:"()[]\"#.unicodeScalars.contains($0) }
    }
}
