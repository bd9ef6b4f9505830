import Foundation

/// How long after a customer's last message a channel lets a business answer freely, and what it
/// allows after that (see docs/platforms.md). Adapters refuse sends by these rules; the inbox shows
/// them to agents (`state`) so the composer can say when the window closes.
public struct ReplyWindow: Sendable, Equatable {
    /// What may go once free-form replies may not.
    public enum Afterwards: String, Sendable, Codable, CaseIterable {
        /// Approved templates only (WhatsApp).
        case templates
        /// A person's reply tagged `HUMAN_AGENT`, until `humanAgentWindow` (Messenger, Instagram).
        case humanAgentTag = "human_agent_tag"
        /// Nothing until the customer writes again.
        case closed
    }

    /// Free-form replies within this long of the customer's last message.
    public var window: TimeInterval
    /// Then, a person's reply with the `HUMAN_AGENT` tag until this long after it.
    public var humanAgentWindow: TimeInterval?
    /// What may go after the last window.
    public var afterwards: Afterwards

    public static let whatsapp = ReplyWindow(window: 24 * 3600, humanAgentWindow: nil, afterwards: .templates)
    /// Messenger and Instagram.
    public static let messenger = ReplyWindow(window: 24 * 3600, humanAgentWindow: 7 * 24 * 3600, afterwards: .closed)
    public static let wechat = ReplyWindow(window: 48 * 3600, humanAgentWindow: nil, afterwards: .closed)

    /// The channel's window; nil for a channel without one (LINE pushes to any friend, SMS to any number).
    public static func of(_ kind: ChannelKind) -> ReplyWindow? {
        switch kind {
        case .whatsapp: .whatsapp
        case .messenger, .instagram: .messenger
        case .wechat: .wechat
        case .line, .sms: nil
        case .webchat: nil
        case .email: nil
        }
    }

    /// Where a conversation stands at `now`: when the current way of answering ends, and what may
    /// go then. Inside the free-form window that is its end, then `afterwards` (or the human-agent
    /// tag where there is one); inside the human-agent window, its end, then `closed`. A customer who
    /// never wrote on the channel: `closesAt` nil, the window never opened.
    public func state(lastInboundAt: Date?, now: Date) -> (closesAt: Date?, afterwards: Afterwards) {
        guard let lastInboundAt else { return (nil, humanAgentWindow == nil ? afterwards : .closed) }
        let freeFormEnd = lastInboundAt.addingTimeInterval(window)
        if let humanAgentWindow {
            return now < freeFormEnd ? (freeFormEnd, .humanAgentTag) : (lastInboundAt.addingTimeInterval(humanAgentWindow), afterwards)
        }
        return (freeFormEnd, afterwards)
    }
}
