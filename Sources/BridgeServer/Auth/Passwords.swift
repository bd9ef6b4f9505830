import CCrypt
import ChannelKit
import Foundation

/// bcrypt password hashes (`$2b$`) by libxcrypt. Only hashes are stored; verification is constant-time.
enum Passwords {
    /// bcrypt reads at most 72 bytes; a longer password would be silently cut, so it is refused.
    static let maxBytes = 72

    static func hash(_ password: String, cost: Int) throws -> String {
        try check(password)
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        guard crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &setting, Int32(setting.count)) != nil else {
            throw PasswordError(message: "bcrypt cost \(cost) is not supported (4 to 31)")
        }
        let settingText = String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let hash = crypt(password, setting: settingText) else { throw PasswordError(message: "bcrypt failed") }
        return hash
    }

    static func verify(_ password: String, hash: String) -> Bool {
        guard hash.hasPrefix("$2"), password.utf8.count <= maxBytes, let computed = crypt(password, setting: hash) else { return false }
        return Signatures.constantTimeEquals(computed, hash)
    }

    static func check(_ password: String) throws {
        guard password.unicodeScalars.count >= 8 else { throw PasswordError(message: "a password has at least 8 characters") }
        guard password.utf8.count <= maxBytes else { throw PasswordError(message: "a password has at most \(maxBytes) bytes", tooLong: true) }
    }

    private static func crypt(_ password: String, setting: String) -> String? {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        memset(data, 0, MemoryLayout<crypt_data>.size)
        guard let result = crypt_r(password, setting, data) else { return nil }
        let text = String(cString: result)
        return text.hasPrefix("*") ? nil : text
    }
}

struct PasswordError: Error, CustomStringConvertible {
    var message: String
    /// Over bcrypt's 72 bytes (rather than too short, or bcrypt failing).
    var tooLong = false
    var description: String { message }
}
