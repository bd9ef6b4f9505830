import ChannelKit

/// A LINE Messaging API channel (`kind: line` in bridge.yaml).
public struct LINEConfiguration: Sendable {
    public var id: String
    public var channelSecret: String
    public var accessToken: String
    /// `https://api.line.me` unless pointed elsewhere (tests point it at a local stand-in).
    public var apiBaseURL: String
    /// Media host; `https://api-data.line.me`, or `apiBaseURL` when that was overridden.
    public var dataAPIBaseURL: String
    public var rateLimit: RateLimit?

    public init(id: String, channelSecret: String, accessToken: String, apiBaseURL: String? = nil, rateLimit: RateLimit? = nil) {
        self.id = id
        self.channelSecret = channelSecret
        self.accessToken = accessToken
        self.apiBaseURL = apiBaseURL ?? "https://api.line.me"
        self.dataAPIBaseURL = apiBaseURL ?? "https://api-data.line.me"
        self.rateLimit = rateLimit
    }
}
