import Crypto
import Foundation

/// Webhook signature checks shared by the channels (HMAC-SHA256 ones: `HMACSHA256Key`). All
/// comparisons are constant-time.
public enum Signatures {
    /// Base64(HMAC-SHA256(secret, body)), for signing test fixtures and stand-in calls.
    public static func hmacSHA256Base64(secret: String, body: Data) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    /// hex(HMAC-SHA256(secret, body)).
    public static func hmacSHA256Hex(secret: String, body: Data) -> String {
        Hex.encode(Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))))
    }

    /// True when `base64Signature` is Base64(HMAC-SHA1(secret, message)) (Twilio's legacy scheme).
    public static func isValidHMACSHA1(base64Signature: String, secret: String, message: Data) -> Bool {
        guard let mac = Data(base64Encoded: trimmed(base64Signature)) else { return false }
        return HMAC<Insecure.SHA1>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: Data(secret.utf8)))
    }

    /// Base64(HMAC-SHA1(secret, message)).
    public static func hmacSHA1Base64(secret: String, message: Data) -> String {
        Data(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    /// hex(SHA-256(data)), e.g. to check a downloaded file against the platform's checksum.
    public static func sha256Hex(_ data: Data) -> String {
        Hex.encode(SHA256.hash(data: data))
    }

    /// `value` without leading and trailing spaces and tabs (Foundation's `trimmingCharacters` goes
    /// through NSString on Linux: a third of the time a signature check took).
    static func trimmed(_ value: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = value.firstIndex(where: { !blank($0) }), let last = value.lastIndex(where: { !blank($0) }) else { return "" }
        return String(value[first...last])
    }

    /// Constant-time equality of two strings' bytes (verify tokens and the like).
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}

/// An HMAC-SHA256 secret made ready once, for an adapter that checks every webhook with it:
/// `HMAC(key:)` pads the key and hashes it into the inner and outer states (two SHA-256 blocks and
/// copies of the key) before it reads a byte of the body, which was most of a LINE signature check.
/// Each check starts from a copy of the ready states.
public struct HMACSHA256Key: Sendable {
    private let ready: HMAC<SHA256>

    public init(secret: String) {
        ready = HMAC(key: SymmetricKey(data: Data(secret.utf8)))
    }

    /// HMAC-SHA256(secret, body).
    public func code(for body: Data) -> HashedAuthenticationCode<SHA256> {
        var mac = ready
        mac.update(data: body)
        return mac.finalize()
    }

    /// True when `base64Signature` is Base64(HMAC-SHA256(secret, body)).
    public func isValid(base64Signature: String, body: Data) -> Bool {
        guard let mac = Data(base64Encoded: Signatures.trimmed(base64Signature)) else { return false }
        return matches(mac, body)
    }

    /// True when `hexSignature` is lower- or upper-case hex(HMAC-SHA256(secret, body)).
    public func isValid(hexSignature: String, body: Data) -> Bool {
        guard let mac = Hex.decode(hexSignature) else { return false }
        return matches(mac, body)
    }

    /// Compared in constant time: every byte, whatever differs first (swift-crypto's `==` with
    /// `DataProtocol` does the same through unspecialised generic code).
    private func matches(_ mac: Data, _ body: Data) -> Bool {
        code(for: body).withUnsafeBytes { expected in
            mac.withUnsafeBytes { given in
                var diff = UInt8(expected.count == given.count ? 0 : 1)
                for i in 0..<min(expected.count, given.count) { diff |= expected[i] ^ given[i] }
                return diff == 0
            }
        }
    }
}

/// Hex encoding helpers.
public enum Hex {
    public static func encode(_ data: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ string: String) -> Data? {
        let chars = Array(string.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = Data(capacity: chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// The value of one hex digit (either case), or nil.
    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Base64 with the URL alphabet and no padding (JWTs, Web Push keys).
public enum Base64URL {
    public static func encode(_ data: some Sequence<UInt8>) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
