import ChannelKit
import Foundation

/// Agent API and login tokens: random, shown once, stored as SHA-256 digests.
enum AccessTokens {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "brg_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func digest(_ token: String) -> String {
        Signatures.sha256Hex(Data(token.utf8))
    }
}
