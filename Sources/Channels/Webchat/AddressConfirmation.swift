import ChannelKit
import Foundation

/// The code that confirms a website visitor reads the mail of an address they typed: six digits
/// from HMAC-SHA256 of `confirm:`, the visitor's id, the address and a 12-hour window, under the
/// account's `visitorSecret`. It is mailed to the address, and only the visitor who asked can use
/// it (the widget posts it with their token), so a stranger who types someone's address gets
/// nothing, and the address's owner cannot be tricked by one click into joining a stranger's chat.
///
/// Stateless: nothing is stored until it is used. A code holds in its window and the next (12 to
/// 24 hours); guessing is stopped by the attempts allowed (`WidgetThrottle`), a few an hour
/// against a million codes.
public enum AddressConfirmation {
    public static let window: TimeInterval = 12 * 3600

    public static func code(visitorId: String, address: String, at now: Date, secret: String) -> String {
        code(visitorId: visitorId, address: address, window: Int64((now.timeIntervalSince1970 / window).rounded(.down)), secret: secret)
    }

    /// Whether `code` is the one mailed for this visitor and address in this window or the last.
    public static func holds(_ code: String, visitorId: String, address: String, at now: Date, secret: String) -> Bool {
        let current = Int64((now.timeIntervalSince1970 / window).rounded(.down))
        return [current, current - 1].contains { Signatures.constantTimeEquals(code, Self.code(visitorId: visitorId, address: address, window: $0, secret: secret)) }
    }

    private static func code(visitorId: String, address: String, window: Int64, secret: String) -> String {
        let mac = Data(base64Encoded: Signatures.hmacSHA256Base64(secret: secret, body: Data("confirm:\(visitorId)\n\(address.lowercased())\n\(window)".utf8))) ?? Data()
        let number = mac.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } % 1_000_000
        let digits = String(number)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }
}
