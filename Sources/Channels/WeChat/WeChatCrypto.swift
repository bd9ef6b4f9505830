import ChannelKit
import Crypto
import Foundation
import _CryptoExtras

/// WeChat's signatures and safe-mode encryption (docs/platforms.md §4).
enum WeChatCrypto {
    /// hex(SHA1(the parts sorted and joined)): `signature` over token/timestamp/nonce, and
    /// `msg_signature` with the `Encrypt` value added.
    static func signature(_ parts: [String]) -> String {
        Hex.encode(Insecure.SHA1.hash(data: Data(parts.sorted().joined().utf8)))
    }

    enum Failure: Error, Equatable {
        case badKey
        case badCiphertext
        case wrongAppId(String)
    }

    /// The 32-byte AES key from the 43-character EncodingAESKey.
    static func key(_ encodingAESKey: String) throws(Failure) -> Data {
        guard let key = Data(base64Encoded: encodingAESKey + "="), key.count == 32 else { throw .badKey }
        return key
    }

    /// Decrypts an `Encrypt` value: AES-256-CBC, IV = first 16 key bytes, PKCS#7 to 32 bytes;
    /// `random(16) ‖ length(UInt32 BE) ‖ message ‖ AppID`. Refuses a message for another AppID.
    static func decrypt(_ encrypted: String, encodingAESKey: String, appId: String) throws(Failure) -> Data {
        let key = try key(encodingAESKey)
        guard let ciphertext = Data(base64Encoded: encrypted), !ciphertext.isEmpty, ciphertext.count % 16 == 0 else { throw .badCiphertext }
        let plain: Data
        do {
            plain = try AES._CBC.decrypt(ciphertext, using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: key.prefix(16)), noPadding: true)
        } catch {
            throw .badCiphertext
        }
        let bytes = [UInt8](plain)
        guard let pad = bytes.last, (1...32).contains(Int(pad)), bytes.count >= 20 + Int(pad) else { throw .badCiphertext }
        let content = bytes[16..<(bytes.count - Int(pad))]
        let length = content.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard content.count >= 4 + length else { throw .badCiphertext }
        let message = Data(content.dropFirst(4).prefix(length))
        let trailer = String(decoding: content.dropFirst(4 + length), as: UTF8.self)
        guard trailer == appId else { throw .wrongAppId(trailer) }
        return message
    }

    /// Encrypts a message the way WeChat does (tests and encrypted passive replies).
    static func encrypt(_ message: Data, encodingAESKey: String, appId: String, random: Data) throws -> String {
        let key = try key(encodingAESKey)
        var plain = Data(random.prefix(16))
        var length = UInt32(message.count).bigEndian
        plain.append(Data(bytes: &length, count: 4))
        plain.append(message)
        plain.append(Data(appId.utf8))
        let pad = 32 - plain.count % 32
        plain.append(Data(repeating: UInt8(pad), count: pad))
        return try AES._CBC.encrypt(plain, using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: key.prefix(16)), noPadding: true)
            .base64EncodedString()
    }
}
