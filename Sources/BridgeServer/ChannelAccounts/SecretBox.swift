import Crypto
import Foundation

/// Encrypts the secrets of channel accounts added from the console (AES-GCM, 256-bit key), so the
/// database holds no secret in the clear: a copy of the database without the key reveals nothing.
/// The account's key (`line/shop`) is the authenticated data, so sealed secrets moved to another
/// account's row do not open. Sealed text is `v1:` and the base64 of nonce, ciphertext and tag.
struct SecretBox: Sendable {
    private let keyBytes: Data

    /// nil unless `base64Key` is 32 bytes in base64.
    init?(base64Key: String) {
        guard let data = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else { return nil }
        keyBytes = data
    }

    /// The key in force: `BRIDGE_SECRETS_KEY`, else the file `data.secretsKeyFile` names; nil when
    /// neither is set. A key file that cannot be read or holds no key stops the bridge.
    static func load(_ config: BridgeConfig) throws -> SecretBox? {
        if let key = config.secretsKey { return SecretBox(base64Key: key) }
        guard let file = config.secretsKeyFile else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigError(key: "data.secretsKeyFile", problem: "names \(file), which cannot be read")
        }
        guard let box = SecretBox(base64Key: text) else {
            throw ConfigError(key: "data.secretsKeyFile", problem: "must hold 32 bytes in base64 (make one with: openssl rand -base64 32 > \(file))")
        }
        return box
    }

    func seal(_ secrets: [String: String], account: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let box = try AES.GCM.seal(encoder.encode(secrets), using: SymmetricKey(data: keyBytes), authenticating: Data(account.utf8))
        guard let combined = box.combined else { throw SecretBoxError.cannotSeal }
        return "v1:" + combined.base64EncodedString()
    }

    func open(_ sealed: String, account: String) throws -> [String: String] {
        guard sealed.hasPrefix("v1:"), let combined = Data(base64Encoded: String(sealed.dropFirst(3))) else { throw SecretBoxError.unreadable }
        do {
            let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: SymmetricKey(data: keyBytes), authenticating: Data(account.utf8))
            return try JSONDecoder().decode([String: String].self, from: plain)
        } catch {
            throw SecretBoxError.wrongKey
        }
    }
}

enum SecretBoxError: Error, CustomStringConvertible {
    case cannotSeal, unreadable, wrongKey, noKey

    var description: String {
        switch self {
        case .cannotSeal: "the secrets could not be encrypted"
        case .unreadable: "the stored secrets are not in a known form"
        case .noKey: "no key is configured to open the stored secrets: set BRIDGE_SECRETS_KEY or data.secretsKeyFile"
        case .wrongKey: "the stored secrets do not open with the configured key (BRIDGE_SECRETS_KEY or data.secretsKeyFile changed?)"
        }
    }
}
