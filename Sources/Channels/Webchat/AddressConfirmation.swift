import ChannelKit
import Foundation

/// The token of an address-confirmation link: proof that whoever opens it reads the mail of the
/// address a website visitor typed. `payload.signature`: the payload is base64url of
/// `visitorId \n address \n expiry (Unix seconds)`, the signature HMAC-SHA256 of `confirm:` and the
/// payload under the account's `visitorSecret` (the prefix keeps it from ever passing as a
/// visitor token's signature, and a visitor token from passing as this).
///
/// Stateless: nothing is stored until the link is used, and a used link may be used again (it
/// only confirms the same thing). It expires after `lifetime`.
public enum AddressConfirmation {
    public static let lifetime: TimeInterval = 24 * 3600

    public static func make(visitorId: String, address: String, expires: Date, secret: String) -> String {
        let payload = Base64URL.encode(Data("\(visitorId)\n\(address)\n\(Int64(expires.timeIntervalSince1970))".utf8))
        return payload + "." + signature(payload, secret: secret)
    }

    /// The visitor and address a token names, when its signature holds and it has not expired.
    public static func open(_ token: String, secret: String, now: Date) -> (visitorId: String, address: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts[0].utf8.count <= 1024, Signatures.constantTimeEquals(parts[1], signature(parts[0], secret: secret)),
            let data = Base64URL.decode(parts[0]), let text = String(data: data, encoding: .utf8)
        else { return nil }
        let fields = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3, VisitorToken.isVisitorId(fields[0]), let expiry = Int64(fields[2]),
            now.timeIntervalSince1970 < TimeInterval(expiry)
        else { return nil }
        return (fields[0], fields[1])
    }

    private static func signature(_ payload: String, secret: String) -> String {
        let base64 = Signatures.hmacSHA256Base64(secret: secret, body: Data(("confirm:" + payload).utf8))
        return Base64URL.encode(Data(base64Encoded: base64) ?? Data())
    }
}
