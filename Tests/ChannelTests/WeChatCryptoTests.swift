import ChannelKit
import Foundation
import Testing
@testable import WeChatChannel

/// docs/platforms.md §9's WeChat vectors, from wechatpy.
@Suite struct WeChatCryptoTests {
    let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    let xml = "<xml><Content><![CDATA[hi]]></Content></xml>"
    let vector = "Q3stYC6hdFzMh9T8HCvyDMnsu8c340VXOKAu7L4L/b1P2o/5A49YbJ2j9ii79bXaOrdISKwixZyWnwUN43wSo5tkRn7w+juueyWa26YiV7asB+0fMLsnEb+alk7/LEr4"

    @Test func encryptsLikeWeChat() throws {
        let encrypted = try WeChatCrypto.encrypt(Data(xml.utf8), encodingAESKey: key, appId: "wx1234567890abcdef", random: Data("0123456789abcdef".utf8))
        #expect(encrypted == vector)
        #expect(Data(base64Encoded: encrypted)?.count == 96)  // 82 bytes + 14 of padding
        #expect(Hex.encode(try WeChatCrypto.key(key).prefix(16)) == "69b71d79f8218a39259a7a29aabb2dba")
    }

    @Test func decryptsAndChecksTheAppId() throws {
        #expect(try WeChatCrypto.decrypt(vector, encodingAESKey: key, appId: "wx1234567890abcdef") == Data(xml.utf8))
        #expect(throws: WeChatCrypto.Failure.wrongAppId("wx1234567890abcdef")) {
            try WeChatCrypto.decrypt(vector, encodingAESKey: key, appId: "wx0000000000000000")
        }
        #expect(throws: WeChatCrypto.Failure.badCiphertext) { try WeChatCrypto.decrypt("AAAA", encodingAESKey: key, appId: "x") }
    }

    @Test func signatures() {
        #expect(WeChatCrypto.signature(["wxtoken", "1700000000", "nonce123"]) == "438e320ae0bf0dbbad6e9d3ff6867680ed42140b")
        #expect(WeChatCrypto.signature(["wxtoken", "1700000000", "nonce123", vector]) == "ddf11f4d2b4bc561bb1a7d2658c6068a70df3bfa")
    }
}
