import ChannelKit
import Foundation

/// A website visitor's identity: `visitorId.signature`, the signature being HMAC-SHA256 of the id
/// under the account's `visitorSecret` (base64url). The widget keeps it in its localStorage, so a
/// reload or another page of the site continues the conversation; without the secret no one can
/// make a token for another visitor's id, so no one reads another visitor's conversation.
public enum VisitorToken {
    /// A new random visitor id: 16 random bytes, base64url (22 characters).
    public static func newVisitorId() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The token for `visitorId`.
    public static func make(visitorId: String, secret: String) -> String {
        visitorId + "." + signature(visitorId, secret: secret)
    }

    /// The visitor id a token names, when its signature holds (compared in constant time).
    public static func visitorId(in token: String, secret: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, isVisitorId(String(parts[0])) else { return nil }
        return Signatures.constantTimeEquals(String(parts[1]), signature(String(parts[0]), secret: secret)) ? String(parts[0]) : nil
    }

    /// Ids the bridge makes: 22 base64url characters.
    public static func isVisitorId(_ text: String) -> Bool {
        text.utf8.count == 22 && text.unicodeScalars.allSatisfy { $0 == "-" || $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    private static func signature(_ visitorId: String, secret: String) -> String {
        let base64 = Signatures.hmacSHA256Base64(secret: secret, body: Data(visitorId.utf8))
        return Base64URL.encode(Data(base64Encoded: base64) ?? Data())
    }
}
