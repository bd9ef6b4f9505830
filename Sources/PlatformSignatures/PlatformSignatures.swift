import ChannelKit
import Crypto
import Foundation

/// Signs webhook calls the way each platform does, for `bridge demo`, tests and benchmarks that
/// play a platform's part.
public enum PlatformSignatures {
    /// LINE: `X-Line-Signature` = Base64(HMAC-SHA256(channel secret, body)).
    public static func line(_ body: Data, channelSecret: String) -> [(String, String)] {
        [("X-Line-Signature", Signatures.hmacSHA256Base64(secret: channelSecret, body: body))]
    }

    /// WhatsApp, Messenger, Instagram: `X-Hub-Signature-256` = `sha256=` hex HMAC-SHA256(app secret, body).
    public static func meta(_ body: Data, appSecret: String) -> [(String, String)] {
        [("X-Hub-Signature-256", "sha256=" + Signatures.hmacSHA256Hex(secret: appSecret, body: body))]
    }

    /// Twilio: `X-Twilio-Signature` over the URL and the sorted parameters.
    public static func twilio(url: String, params: [(String, String)], authToken: String) -> [(String, String)] {
        let signed = url + params.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { $0.0 + $0.1 }.joined()
        return [
            ("X-Twilio-Signature", Signatures.hmacSHA1Base64(secret: authToken, message: Data(signed.utf8))),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
    }

    /// WeChat: the query string with `signature` (and, in safe mode, `msg_signature` over `encrypted`).
    public static func wechatQuery(token: String, timestamp: String, nonce: String, encrypted: String? = nil) -> String {
        func sign(_ parts: [String]) -> String { Hex.encode(Insecure.SHA1.hash(data: Data(parts.sorted().joined().utf8))) }
        var query = "signature=\(sign([token, timestamp, nonce]))&timestamp=\(timestamp)&nonce=\(nonce)"
        if let encrypted { query += "&encrypt_type=aes&msg_signature=\(sign([token, timestamp, nonce, encrypted]))" }
        return query
    }

    /// Slack: `X-Slack-Signature` = `v0=` hex HMAC-SHA256(signing secret, "v0:timestamp:body").
    public static func slack(_ body: Data, signingSecret: String, timestamp: Int) -> [(String, String)] {
        [
            ("X-Slack-Signature", "v0=" + Signatures.hmacSHA256Hex(secret: signingSecret, body: Data("v0:\(timestamp):".utf8) + body)),
            ("X-Slack-Request-Timestamp", String(timestamp)),
        ]
    }
}
