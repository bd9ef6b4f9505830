import Crypto
import Foundation
import Testing

@testable import EmailChannel

/// Every `fixtures/email/<name>.eml` read by the parser and compared with `<name>.expected.json`:
/// the normalised mail (ids, subject, sender, text trimmed and whole, attachments, origin).
@Suite struct MailFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/email")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
            .map { String($0.dropLast(".eml".count)) }
    }

    @Test func fixturesCoverTheCases() {
        for name in ["plain", "html-only", "multipart-attachment", "iso-2022-jp", "shift-jis", "quoted-reply", "auto-reply", "dsn-bounce"] {
            #expect(Self.names.contains(name), "fixtures/email/\(name).eml is missing")
        }
    }

    @Test(arguments: names)
    func parses(_ name: String) throws {
        let raw = try Data(contentsOf: Self.root.appendingPathComponent("\(name).eml"))
        let actual = MailSummary(ParsedMail.parse(raw))
        let expectedURL = Self.root.appendingPathComponent("\(name).expected.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let dump = ProcessInfo.processInfo.environment["EMAIL_FIXTURE_DUMP"] {
            try encoder.encode(actual).write(to: URL(fileURLWithPath: dump).appendingPathComponent("\(name).expected.json"))
        }
        let expected = try JSONDecoder().decode(MailSummary.self, from: Data(contentsOf: expectedURL))
        let actualJSON = String(decoding: try encoder.encode(actual), as: UTF8.self)
        #expect(actual == expected, "\(actualJSON)")
    }

    /// Truncated anywhere, a fixture still parses (nothing traps, the sender survives the header cut).
    @Test(arguments: names)
    func truncatedStillParses(_ name: String) throws {
        let raw = try Data(contentsOf: Self.root.appendingPathComponent("\(name).eml"))
        for length in stride(from: 0, to: raw.count, by: max(1, raw.count / 97)) {
            _ = ParsedMail.parse(raw.prefix(length))
        }
    }
}

/// What a fixture's expected file holds: the parsed mail, attachments by name, type, size and digest.
struct MailSummary: Codable, Equatable {
    struct Origin: Codable, Equatable {
        var kind: String
        var reason: String?
        var originalMessageId: String?
    }

    struct Attachment: Codable, Equatable {
        var fileName: String
        var mimeType: String
        var size: Int
        var sha256: String
    }

    var messageId: String?
    var inReplyTo: [String]
    var references: [String]
    var threadIds: [String]
    var ticketToken: Int?
    var subject: String
    var fromName: String?
    var fromAddress: String?
    var senderKey: String?
    var date: Double?
    var text: String
    var fullText: String
    var attachments: [Attachment]
    var origin: Origin

    init(_ mail: ParsedMail) {
        messageId = mail.messageId
        inReplyTo = mail.inReplyTo
        references = mail.references
        threadIds = mail.threadIds
        ticketToken = mail.ticketToken
        subject = mail.subject
        fromName = mail.from?.name
        fromAddress = mail.from?.address
        senderKey = mail.from?.key
        date = mail.date?.timeIntervalSince1970
        text = mail.text
        fullText = mail.fullText
        attachments = mail.attachments.map {
            Attachment(fileName: $0.fileName, mimeType: $0.mimeType, size: $0.data.count, sha256: SHA256.hash(data: $0.data).map { String(format: "%02x", $0) }.joined())
        }
        switch mail.origin {
        case .person: origin = Origin(kind: "person")
        case .automatic(let reason): origin = Origin(kind: "automatic", reason: reason)
        case .bounce(let original, let reason): origin = Origin(kind: "bounce", reason: reason, originalMessageId: original)
        }
    }
}
