import ChannelKit
import Foundation
import UniversalInbox

/// Turns a `ReplyRequest` into a queued message for one ticket: fills in a canned response, checks
/// forbidden words (unless overridden) and the channel's rules. Single and bulk replies share it.
struct ReplyComposer: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry

    /// The draft has forbidden words and was not sent with `allowForbidden`.
    struct ForbiddenWords: Error {
        var matches: [ForbiddenMatch]
        var message: String {
            "the reply contains forbidden words (\(Set(matches.map(\.word)).sorted().joined(separator: ", "))); send with allowForbidden to override"
        }
    }

    func send(_ body: ReplyRequest, to ticketId: Int64, by actor: Caller, checkVersion: Bool = true) async throws -> StoredMessage {
        try body.check()
        var body = body
        if let canned = body.canned {
            try await inbox.authorize(actor, .read, .ticket(ticketId))
            body.text = try await inbox.renderCannedResponse(canned, ticketId: ticketId, by: actor)
        }
        let content = try body.content()
        if body.allowForbidden != true, let text = content.text {
            let matches = try await inbox.forbiddenMatches(in: text)
            if !matches.isEmpty { throw ForbiddenWords(matches: matches) }
        }
        let registry = self.registry
        return try await inbox.queueReply(
            ticketId: ticketId, content: content, channel: body.channel, by: actor,
            expectedVersion: checkVersion && body.force != true ? body.version : nil
        ) { target in registry.refusal(for: target) }
    }
}
