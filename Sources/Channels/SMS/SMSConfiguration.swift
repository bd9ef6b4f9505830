import ChannelKit

/// A Twilio-compatible SMS/MMS number (`kind: sms` in bridge.yaml).
public struct SMSConfiguration: Sendable {
    public var id: String
    public var accountSid: String
    public var authToken: String
    /// The sending number (E.164) or messaging service.
    public var from: String
    /// `https://api.twilio.com` unless pointed elsewhere.
    public var apiBaseURL: String
    /// Where Twilio posts delivery statuses: this account's webhook at the server's public URL.
    public var statusCallbackURL: String?
    public var rateLimit: RateLimit?

    public init(
        id: String, accountSid: String, authToken: String, from: String, apiBaseURL: String? = nil,
        statusCallbackURL: String? = nil, rateLimit: RateLimit? = nil
    ) {
        self.id = id
        self.accountSid = accountSid
        self.authToken = authToken
        self.from = from
        self.apiBaseURL = apiBaseURL ?? "https://api.twilio.com"
        self.statusCallbackURL = statusCallbackURL
        self.rateLimit = rateLimit
    }
}
