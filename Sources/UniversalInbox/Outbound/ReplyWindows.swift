import ChannelKit
import Foundation

/// For one of the contact's identities: how long the agent may still answer freely there, by the
/// channel's rules (`ChannelKit.ReplyWindow`) and the customer's last message on it.
public struct TicketReplyWindow: Sendable, Equatable, Codable {
    public var channel: String
    public var account: String
    /// When the current way of answering ends (in the past: ended then); nil with `afterwards` nil,
    /// no window (LINE, SMS); nil with `afterwards` set, the customer never wrote on it.
    public var closesAt: Date?
    public var afterwards: ReplyWindow.Afterwards?

    public func encode(to encoder: any Encoder) throws {
        // Both always present: null is an answer here ("no window").
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(channel, forKey: .channel)
        try container.encode(account, forKey: .account)
        try container.encode(closesAt, forKey: .closesAt)
        try container.encode(afterwards, forKey: .afterwards)
    }
}

extension Inbox {
    /// The reply windows of a ticket's contact, one per identity (oldest identity first).
    public func replyWindows(ticketId: Int64) async throws -> [TicketReplyWindow] {
        let now = clock()
        return try await stores.outbox.replyChannels(ticketId: ticketId).map { identity in
            var window = TicketReplyWindow(channel: identity.channel, account: identity.account, closesAt: nil, afterwards: nil)
            if let rule = ChannelKind(rawValue: identity.channel).flatMap(ReplyWindow.of) {
                (window.closesAt, window.afterwards) = rule.state(lastInboundAt: identity.lastInboundAt, now: now)
            }
            return window
        }
    }
}
