import Foundation
import Logging
import UniversalInbox

/// The admin API token: `auth.adminToken` (or `BRIDGE_ADMIN_TOKEN`), else one created once and kept
/// beside the database. It acts above every owner, so it must be long enough not to be guessed: an
/// empty token used to let `?token=` open the live feed as the owner.
enum AdminToken {
    static let minimumLength = 32

    /// Refuses a token shorter than 32 characters or with spaces or control characters, naming `key`.
    static func check(_ token: String, key: String = "auth.adminToken") throws {
        guard token.count >= minimumLength else {
            throw ConfigError(
                key: key,
                problem: "must be at least \(minimumLength) characters (it has \(token.count)); e.g. openssl rand -hex 32, or leave it out and the bridge makes one in data/admin-token")
        }
        guard !token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
            throw ConfigError(key: key, problem: "must not contain spaces or control characters")
        }
    }

    /// The token in `admin-token` in `directory` (`BridgeConfig.filesDirectory`), created (0600,
    /// never logged) when missing.
    static func loadOrCreate(in directory: String, logger: Logger) throws -> String {
        let (token, created, path) = try SecretFile.loadOrCreate("admin-token", in: directory)
        if created { logger.notice("created an admin API token", metadata: ["token.file": "\(path)"]) }
        try check(token, key: "auth.adminToken (from \(path))")
        return token
    }
}

/// A random secret (32 bytes, hex) kept in a 0600 file in the data directory
/// (`BridgeConfig.filesDirectory`), created on first use; processes sharing the directory share it.
enum SecretFile {
    static func loadOrCreate(_ name: String, in directory: String) throws -> (value: String, created: Bool, path: String) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        if let existing = read(path) { return (existing, false, path) }
        try PrivateFiles.createDirectory(directory)
        let value = random()
        if FileManager.default.fileExists(atPath: path) {
            // An empty file (an interrupted first start): replace it.
            try PrivateFiles.save(Data(value.utf8), to: path)
            return (value, true, path)
        }
        if try PrivateFiles.createExclusively(Data(value.utf8), at: path) { return (value, true, path) }
        // Another process made it first: use theirs.
        guard let existing = read(path) else { throw ConfigError(key: "", problem: "cannot read \(path)") }
        return (existing, false, path)
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
