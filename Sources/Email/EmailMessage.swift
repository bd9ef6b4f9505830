import Foundation

/// One plain-text e-mail, rendered as RFC 5322 with a UTF-8 body (base64) and RFC 2047 encoded
/// words for non-ASCII headers. Addresses with line breaks are refused, so no header can be injected.
public struct EmailMessage: Sendable, Equatable {
    /// `Name <address>` or a bare address.
    public var from: String
    public var to: String
    public var subject: String
    public var text: String
    /// Stable across resends of the same message (the left part of `Message-ID`).
    public var id: String
    public var date: Date
    /// The one-click unsubscribe URL of bulk mail (a campaign's): sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), which Gmail and Yahoo require
    /// of bulk senders. Must be https (or http) with no line break, `<`, `>` or `,`.
    public var listUnsubscribe: String?

    public init(from: String, to: String, subject: String, text: String, id: String, date: Date = Date(), listUnsubscribe: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.id = id
        self.date = date
        self.listUnsubscribe = listUnsubscribe
    }

    /// The bare address in `Name <address>` (or the whole string), checked to look like one.
    public static func address(_ mailbox: String) throws(EmailError) -> String {
        var address = mailbox.trimmingCharacters(in: .whitespaces)
        if let open = address.lastIndex(of: "<"), address.hasSuffix(">") {
            address = String(address[address.index(after: open)..<address.index(before: address.endIndex)])
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !address.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "<" || $0 == ">" || $0 == "," })
        else { throw EmailError.invalidAddress(mailbox) }
        return address
    }

    /// The message as the SMTP `DATA` carries it (CRLF line ends).
    public func rendered() throws(EmailError) -> Data {
        let fromAddress = try Self.address(from)
        let toAddress = try Self.address(to)
        let domain = fromAddress.split(separator: "@").last.map(String.init) ?? "bridge.invalid"
        let dateFormatter = DateFormatter()
        dateFormatter.locale = Locale(identifier: "en_US_POSIX")
        dateFormatter.timeZone = TimeZone(identifier: "UTC")
        dateFormatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var headers = [
            "Date: \(dateFormatter.string(from: date))",
            "From: \(Self.mailbox(from, address: fromAddress))",
            "To: <\(toAddress)>",
            "Subject: \(Self.encodedWord(subject))",
            "Message-ID: <\(id.filter { $0.isLetter || $0.isNumber || "-._".contains($0) })@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
        ]
        if let listUnsubscribe {
            guard listUnsubscribe.hasPrefix("https://") || listUnsubscribe.hasPrefix("http://"),
                listUnsubscribe.allSatisfy({ $0.isASCII && !$0.isWhitespace && !"<>,\"".contains($0) })
            else { throw EmailError.invalidUnsubscribeLink }
            headers += ["List-Unsubscribe: <\(listUnsubscribe)>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        }
        let body = Data(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
            .base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return Data((headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n").utf8)
    }

    /// `"Display name" <address>` with the name as an encoded word where needed.
    static func mailbox(_ mailbox: String, address: String) -> String {
        guard let open = mailbox.lastIndex(of: "<") else { return "<\(address)>" }
        let name = mailbox[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard !name.isEmpty else { return "<\(address)>" }
        let plain = name.allSatisfy { $0.isASCII && !$0.isNewline && $0 != "\"" && $0 != "\\" }
        return (plain ? "\"\(name)\"" : encodedWord(name)) + " <\(address)>"
    }

    /// The text as is when printable ASCII, else RFC 2047 `=?UTF-8?B?…?=` words; line breaks become spaces.
    static func encodedWord(_ text: String) -> String {
        let flat = text.components(separatedBy: .newlines).joined(separator: " ")
        if flat.allSatisfy({ $0.isASCII && ($0 == " " || !$0.isWhitespace) }) { return flat }
        // Each word stays under 76 characters: whole characters, at most 45 bytes, folded lines.
        var words: [String] = []
        var chunk = ""
        for character in flat {
            if chunk.utf8.count + String(character).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        words.append(chunk)
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }
}

/// Why an e-mail could not be sent.
public enum EmailError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    /// Never says the link: it holds the recipient's token.
    case invalidUnsubscribeLink

    public var description: String {
        switch self {
        case .invalidAddress(let mailbox): "\(mailbox.debugDescription) is not an e-mail address"
        case .invalidUnsubscribeLink: "the unsubscribe link is not an http(s) URL that fits in a header"
        }
    }
}
