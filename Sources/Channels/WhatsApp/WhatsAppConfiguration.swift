import ChannelKit

/// A WhatsApp Business Cloud API number (`kind: whatsapp` in bridge.yaml).
public struct WhatsAppConfiguration: Sendable {
    public var id: String
    public var appSecret: String
    public var verifyToken: String
    public var accessToken: String
    public var phoneNumberId: String
    /// The WhatsApp Business Account (WABA) the number belongs to: its approved message templates
    /// are listed from it. Optional; without it agents type a template's name by hand.
    public var businessAccountId: String?
    /// `https://graph.facebook.com` unless pointed elsewhere.
    public var apiBaseURL: String
    public var apiVersion: String
    public var rateLimit: RateLimit?

    public init(
        id: String, appSecret: String, verifyToken: String, accessToken: String, phoneNumberId: String,
        apiBaseURL: String? = nil, apiVersion: String = "v21.0", rateLimit: RateLimit? = nil, businessAccountId: String? = nil
    ) {
        self.id = id
        self.appSecret = appSecret
        self.verifyToken = verifyToken
        self.accessToken = accessToken
        self.phoneNumberId = phoneNumberId
        self.businessAccountId = businessAccountId
        self.apiBaseURL = apiBaseURL ?? "https://graph.facebook.com"
        self.apiVersion = apiVersion
        self.rateLimit = rateLimit
    }

    var graphURL: String { "\(apiBaseURL)/\(apiVersion)" }
}
