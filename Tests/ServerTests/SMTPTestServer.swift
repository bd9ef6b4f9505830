import Email
import EmailChannel
import Foundation

/// A real SMTP server (Python's aiosmtpd, `scripts/smtp_test_server.py`, installed by
/// `scripts/install-deps.sh`) with STARTTLS and AUTH required, writing what it receives to a
/// directory. Each test starts its own and stops it.
final class SMTPTestServer: @unchecked Sendable {
    let port: Int
    let maildir: URL
    static let user = "bridge"
    static let password = "smtp-test-password"
    private let process: Process
    private let input: Pipe

    /// A received message: its envelope and its parsed headers and (decoded) body.
    struct Received {
        var from: String
        var to: [String]
        var user: String?
        var tls: Bool
        var headers: [String: String]
        var body: String
        /// The message as it arrived.
        var raw: Data
    }

    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    init(reject: [String] = []) throws {
        let python = Self.root.appendingPathComponent(".build/python/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw SMTPServerError(problem: "no aiosmtpd environment at \(python.path): run scripts/install-deps.sh")
        }
        maildir = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString)")
        process = Process()
        process.executableURL = python
        process.arguments = [
            "-W", "ignore", Self.root.appendingPathComponent("scripts/smtp_test_server.py").path, "--maildir", maildir.path,
            "--user", Self.user, "--password", Self.password, "--reject", reject.joined(separator: ","),
        ]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw SMTPServerError(problem: "the SMTP server exited before listening") }
            line.append(chunk)
        }
        guard let port = String(decoding: line, as: UTF8.self).split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { throw SMTPServerError(problem: "the SMTP server said \(String(decoding: line, as: UTF8.self))") }
        self.port = port
    }

    var url: String { "smtp://127.0.0.1:\(port)" }
    var certificate: String { maildir.appendingPathComponent("cert.pem").path }

    /// Settings that reach this server: STARTTLS with its certificate trusted, its login.
    func settings(from: String = "Support <support@example.com>", password: String = SMTPTestServer.password) -> SMTPSettings {
        SMTPSettings(url: url, username: Self.user, password: password, from: from, caFile: certificate, connections: 2, timeout: .seconds(10))
    }

    /// What arrived so far, in order.
    func received() throws -> [Received] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: maildir.path)) ?? []
        let numbers = names.filter { $0.hasSuffix(".json") }.compactMap { Int($0.dropLast(5)) }.sorted()
        return try numbers.map { n in
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: maildir.appendingPathComponent("\(n).json"))) as? [String: Any] ?? [:]
            let bytes = try Data(contentsOf: maildir.appendingPathComponent("\(n).eml"))
            let raw = String(decoding: bytes, as: UTF8.self)
            let parts = raw.components(separatedBy: "\r\n\r\n")
            var headers: [String: String] = [:]
            var last: String?
            for line in parts[0].components(separatedBy: "\r\n") {
                if line.hasPrefix(" "), let key = last {
                    headers[key, default: ""] += line
                } else if let colon = line.firstIndex(of: ":") {
                    let key = line[..<colon].lowercased()
                    headers[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    last = key
                }
            }
            let encoded = parts.dropFirst().joined(separator: "\r\n\r\n").replacingOccurrences(of: "\r\n", with: "")
            // A text-and-HTML mail's body is its plain text part.
            let body = headers["content-type"]?.hasPrefix("multipart/") == true
                ? MIMEPart.parse(bytes).leaves.first { $0.mimeType == "text/plain" }?.text ?? ""
                : headers["content-transfer-encoding"] == "base64" ? String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self) : encoded
            return Received(
                from: envelope["from"] as? String ?? "", to: envelope["to"] as? [String] ?? [], user: envelope["user"] as? String,
                tls: envelope["tls"] as? Bool ?? false, headers: headers, body: body, raw: bytes)
        }
    }

    /// Decodes RFC 2047 `=?UTF-8?B?…?=` words (what a mail reader shows).
    static func decodeWords(_ header: String) -> String {
        var text = ""
        var previousEncoded = false
        for word in header.split(separator: " ") {
            if word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="), let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) {
                if !previousEncoded, !text.isEmpty { text += " " }
                text += String(decoding: data, as: UTF8.self)
                previousEncoded = true
            } else {
                if !text.isEmpty { text += " " }
                text += word
                previousEncoded = false
            }
        }
        return text
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: maildir)
    }
}

struct SMTPServerError: Error, CustomStringConvertible {
    var problem: String
    var description: String { problem }
}
