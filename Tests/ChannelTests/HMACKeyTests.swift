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
        // A secret longer than SHA-256's 64-byte block is hashed first (RFC 2104): the ready key agrees
        // with swift-crypto's one-off `HMAC.authenticationCode` (`Signatures.hmacSHA256Hex`).
        let secret = String(repeating: "a", count: 131)
        let body = Data("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        let key = HMACSHA256Key(secret: secret)
        #expect(Signatures.hmacSHA256Hex(secret: secret, body: body) == Hex.encode(key.code(for: body)))
        #expect(key.isValid(hexSignature: Signatures.hmacSHA256Hex(secret: secret, body: body), body: body))
    }
}
