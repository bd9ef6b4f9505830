import ChannelKit
import Foundation

/// What an agent did in Slack, normalised.
public enum SlackInbound: Sendable, Equatable {
    /// Slack checks the URL: answer the challenge.
    case urlVerification(challenge: String)
    /// An agent wrote in a ticket's thread.
    case threadReply(SlackThreadReply)
    /// An agent pressed one of a ticket's buttons.
    case action(SlackAction)
    /// Anything else (bot messages, edits, top-level chatter): acknowledged, not acted on.
    case ignored(reason: String)
}

public struct SlackThreadReply: Sendable, Equatable {
    /// Slack's `event_id`, the same across Slack's retries.
    public var eventId: String
    public var channel: String
    public var threadTs: String
    public var user: String
    public var text: String

    public init(eventId: String, channel: String, threadTs: String, user: String, text: String) {
        self.eventId = eventId
        self.channel = channel
        self.threadTs = threadTs
        self.user = user
        self.text = text
    }
}

public struct SlackAction: Sendable, Equatable {
    public enum Kind: String, Sendable { case claim, resolve, spam }
    /// Slack's `trigger_id`, unique per click.
    public var eventId: String
    public var kind: Kind
    public var ticketId: Int64
    public var channel: String
    public var threadTs: String
    public var user: String

    public init(eventId: String, kind: Kind, ticketId: Int64, channel: String, threadTs: String, user: String) {
        self.eventId = eventId
        self.kind = kind
        self.ticketId = ticketId
        self.channel = channel
        self.threadTs = threadTs
        self.user = user
    }
}

struct SlackEnvelope: Decodable {
    var type: String
    var challenge: String?
    var event_id: String?
    var event: Event?

    struct Event: Decodable {
        var type: String
        var subtype: String?
        var channel: String?
        var user: String?
        var bot_id: String?
        var text: String?
        var ts: String?
        var thread_ts: String?
    }
}

struct SlackActionPayload: Decodable {
    struct User: Decodable { var id: String }
    struct Channel: Decodable { var id: String }
    struct Container: Decodable {
        var message_ts: String?
        var thread_ts: String?
    }
    struct Action: Decodable {
        var action_id: String
        var value: String?
    }
    struct Message: Decodable {
        var ts: String
        var thread_ts: String?
    }
    var type: String
    var trigger_id: String?
    var user: User
    var channel: Channel?
    var container: Container?
    var message: Message?
    var actions: [Action]?
}
