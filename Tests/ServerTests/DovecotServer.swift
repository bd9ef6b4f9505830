import Email
import Foundation

/// A real IMAP server (Debian's Dovecot, `scripts/dovecot.sh`, installed by
/// `scripts/install-deps.sh`) in a temporary directory of its own. Each test starts its own and
/// stops it; a machine without Dovecot fails the test instead of skipping it.
final class DovecotServer: @unchecked Sendable {
    let directory: URL
    let port: Int
    let tlsPort: Int
    let password: String
    static let user = "bridge"

    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dovecot-\(UUID().uuidString)")
        let output = try Self.script("start", directory.path)
        let ports = output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard ports.count == 2 else { throw DovecotError(problem: "scripts/dovecot.sh said \(output)") }
        port = ports[0]
        tlsPort = ports[1]
        password = try String(contentsOf: directory.appendingPathComponent("password"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        _ = try? Self.script("stop", directory.path)
    }

    /// IMAPS with the server's self-signed certificate trusted.
    func settings(mailbox: String = "INBOX") -> IMAPSettings {
        IMAPSettings(
            url: "imaps://127.0.0.1:\(tlsPort)", username: Self.user, password: password, mailbox: mailbox,
            caFile: directory.appendingPathComponent("cert.pem").path, timeout: .seconds(20))
    }

    /// Puts a mail into the mailbox as a mail server's delivery would (IMAP APPEND, another session).
    func deliver(_ message: Data, mailbox: String = "INBOX", receivedAt: Date? = nil) throws {
        let session = try IMAPSession(settings: settings())
        try session.append(message, to: mailbox, date: receivedAt)
        session.logout()
    }

    private static func script(_ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/dovecot.sh").path] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        // Not read to the end: the server started in the background may hold the pipe open.
        let data = output.fileHandleForReading.availableData
        let errorText = process.terminationStatus == 0 ? "" : String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw DovecotError(problem: "scripts/dovecot.sh \(arguments.joined(separator: " ")) failed: \(errorText)") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct DovecotError: Error, CustomStringConvertible {
    var problem: String
    var description: String { problem }
}
