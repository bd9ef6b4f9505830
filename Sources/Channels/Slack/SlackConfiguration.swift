import ChannelKit

/// A Slack workspace used as an agent console (`kind: slack` in bridge.yaml): each ticket is a
/// thread in `channel`, agents answer customers by replying in the thread.
public struct SlackConfiguration: Sendable {
    public var id: String
    public var signingSecret: String
    public var botToken: String
    /// The channel id (C…) tickets are posted to.
    public var channel: String
    /// `https://slack.com/api` unless pointed elsewhere.
    public var apiBaseURL: String
    /// Slack user id → agent name; users not listed are named from their Slack profile (e-mail).
    public var agents: [String: String]
    /// chat.postMessage allows about one message a second per channel, with short bursts.
    public var rateLimit: RateLimit

    public init(
        id: String, signingSecret: String, botToken: String, channel: String, apiBaseURL: String? = nil, agents: [String: String] = [:],
        rateLimit: RateLimit? = nil
    ) {
        self.id = id
        self.signingSecret = signingSecret
        self.botToken = botToken
        self.channel = channel
        self.apiBaseURL = apiBaseURL ?? "https://slack.com/api"
        self.agents = agents
        self.rateLimit = rateLimit ?? RateLimit(perSecond: 1, burst: 5)
    }
}
