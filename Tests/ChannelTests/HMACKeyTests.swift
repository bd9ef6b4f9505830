import ChannelKit
import Foundation
import Testing

/// A secret made ready once checks every body as HMAC-SHA256 does (RFC 4231, test case 2), and one
/// check leaves nothing behind for the next.
@Suite struct HMACKeyTests {
    @Test func readyKeyGivesRFC4231Codes() {
        let key = HMACSHA256Key(secret: "Jefe")
        let body = Data("what do ya want for nothing?".utf8)
        let hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(Hex.encode(key.code(for: body)) == hex)
        #expect(key.isValid(hexSignature: hex, body: body))
        #expect(key.isValid(hexSignature: hex.uppercased(), body: body))
        #expect(key.isValid(base64Signature: " " + Data(Hex.decode(hex)!).base64EncodedString() + "\t", body: body))
        // Checked again after other bodies: each check starts from the ready state.
        #expect(!key.isValid(hexSignature: hex, body: Data("what do ya want for nothing!".utf8)))
        #expect(!key.isValid(hexSignature: String(hex.dropLast()) + "4", body: body))
        #expect(!key.isValid(hexSignature: String(hex.dropLast(2)), body: body))
        #expect(!key.isValid(base64Signature: "not base64", body: body))
        #expect(key.isValid(hexSignature: hex, body: body))
    }

    @Test func keysLongerThanABlockAreHashedFirst() {
        // A secret longer than SHA-256's 64-byte block is hashed first (RFC 2104); the code is
        // Python's `hmac.new(b"a" * 131, body, hashlib.sha256)`.
        let key = HMACSHA256Key(secret: String(repeating: "a", count: 131))
        let body = Data("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        let hex = "d021303c2f34bf3ae541b4ec9c672691694c6f71c5c0c55781545a66115b14a7"
        #expect(Hex.encode(key.code(for: body)) == hex)
        #expect(key.isValid(hexSignature: hex, body: body))
        // Longer, shorter or empty signatures are refused, however the rest compares.
        #expect(!key.isValid(hexSignature: hex + "00", body: body))
        #expect(!key.isValid(hexSignature: "", body: body))
        #expect(!key.isValid(base64Signature: "", body: body))
    }
}
