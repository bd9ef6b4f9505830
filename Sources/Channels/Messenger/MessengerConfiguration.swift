import ChannelKit

/// A Facebook Page on Messenger (`kind: messenger`) or an Instagram professional account linked to
/// a Page (`kind: instagram`); both use the Messenger Platform's webhooks and Send API.
public struct MessengerConfiguration: Sendable {
    /// `.messenger` or `.instagram`.
    public var kind: ChannelKind
    public var id: String
    public var appSecret: String
    public var verifyToken: String
    public var pageAccessToken: String
    public var pageId: String
    /// `https://graph.facebook.com` unless pointed elsewhere.
    public var apiBaseURL: String
    public var apiVersion: String
    public var rateLimit: RateLimit?

    public init(
        kind: ChannelKind, id: String, appSecret: String, verifyToken: String, pageAccessToken: String, pageId: String,
        apiBaseURL: String? = nil, apiVersion: String = "v21.0", rateLimit: RateLimit? = nil
    ) {
        precondition(kind == .messenger || kind == .instagram, "MessengerConfiguration is for messenger and instagram accounts")
        self.kind = kind
        self.id = id
        self.appSecret = appSecret
        self.verifyToken = verifyToken
        self.pageAccessToken = pageAccessToken
        self.pageId = pageId
        self.apiBaseURL = apiBaseURL ?? "https://graph.facebook.com"
        self.apiVersion = apiVersion
        self.rateLimit = rateLimit
    }

    var graphURL: String { "\(apiBaseURL)/\(apiVersion)" }
    /// The webhook's `object` for this kind.
    var webhookObject: String { kind == .instagram ? "instagram" : "page" }
}
