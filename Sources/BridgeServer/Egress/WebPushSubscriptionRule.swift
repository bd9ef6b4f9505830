import ChannelKit
import Crypto
import Foundation

/// What a browser's Web Push subscription must look like before the bridge stores it and, later,
/// POSTs alerts to its endpoint: an https URL on one of the push services browsers use (unless
/// `egress.allow` lists the host, for a private push service or a test stand-in), a real P-256
/// public key and a 16-byte auth secret.
enum WebPushSubscriptionRule {
    /// The push services' hosts: Chrome/Edge on Android and desktop (FCM), Firefox (Mozilla), Edge
    /// and Windows (WNS), Safari (Apple).
    static let pushHosts = ["fcm.googleapis.com", "updates.push.services.mozilla.com", "*.notify.windows.com", "web.push.apple.com", "*.push.apple.com"]

    /// Refusals are 422: the document types these as strings, the rules are in its words.
    static func check(endpoint: String, p256dh: String, auth: String, egress: EgressPolicy) throws(APIError) {
        guard isAllowed(endpoint: endpoint, egress: egress) else {
            throw APIError.unprocessable(
                "invalid_endpoint", "endpoint must be an https URL on a browser push service (\(pushHosts.joined(separator: ", ")))")
        }
        guard let key = Base64URL.decode(p256dh), key.count == 65, key.first == 0x04,
            (try? P256.KeyAgreement.PublicKey(x963Representation: key)) != nil
        else {
            throw APIError.unprocessable("invalid_keys", "keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url) on the curve")
        }
        guard Base64URL.decode(auth)?.count == 16 else {
            throw APIError.unprocessable("invalid_keys", "keys.auth must be the 16-byte auth secret, base64url")
        }
    }

    static func isAllowed(endpoint: String, egress: EgressPolicy) -> Bool {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), var host = url.host?.lowercased(), !host.isEmpty else { return false }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard scheme == "https" || scheme == "http" else { return false }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        if egress.allowsName(host, port: port) { return true }
        if let address = IPAddress(host), egress.allowsAddress(address, port: port) { return true }
        guard scheme == "https", port == 443 else { return false }
        return pushHosts.contains { pattern in
            pattern.hasPrefix("*.") ? host.hasSuffix(pattern.dropFirst()) : host == pattern
        }
    }
}
