import ChannelKit

/// A WeChat Official Account (`kind: wechat` in bridge.yaml). With `encodingAESKey` the account
/// runs in safe mode (encrypted bodies); without it, in plaintext mode.
public struct WeChatConfiguration: Sendable {
    public var id: String
    public var appId: String
    public var appSecret: String
    /// The token set in the WeChat console, used for webhook signatures.
    public var token: String
    /// The 43-character EncodingAESKey of safe mode.
    public var encodingAESKey: String?
    /// `https://api.weixin.qq.com` unless pointed elsewhere.
    public var apiBaseURL: String
    public var rateLimit: RateLimit?

    public init(
        id: String, appId: String, appSecret: String, token: String, encodingAESKey: String? = nil, apiBaseURL: String? = nil,
        rateLimit: RateLimit? = nil
    ) {
        self.id = id
        self.appId = appId
        self.appSecret = appSecret
        self.token = token
        self.encodingAESKey = encodingAESKey
        self.apiBaseURL = apiBaseURL ?? "https://api.weixin.qq.com"
        self.rateLimit = rateLimit
    }
}
