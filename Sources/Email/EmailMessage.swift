import ChannelKit
import Foundation

/// One e-mail, rendered as RFC 5322: a UTF-8 text body (base64), or text and HTML as
/// `multipart/alternative`; RFC 2047 encoded words for non-ASCII headers; `In-Reply-To` and
/// `References` when it answers a conversation. Addresses with line breaks are refused and message
/// ids outside RFC 5322's characters are dropped, so no header can be injected.
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
    /// The same text as HTML, sent beside the plain text (`multipart/alternative`) when set.
    public var html: String?
    /// The conversation it answers, nearest first: the first is `In-Reply-To`, all of them
    /// (oldest first) `References`. Message-IDs without angle brackets.
    public var answering: [String]
    /// Sent by a machine, not a person (`Auto-Submitted: auto-replied`, RFC 3834): auto-responders
    /// that follow the RFC do not answer it, so two systems cannot answer each other for ever.
    public var autoSubmitted: Bool

    public init(
        from: String, to: String, subject: String, text: String, id: String, date: Date = Date(), listUnsubscribe: String? = nil,
        html: String? = nil, answering: [String] = [], autoSubmitted: Bool = false
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.id = id
        self.date = date
        self.listUnsubscribe = listUnsubscribe
        self.html = html
        self.answering = answering
        self.autoSubmitted = autoSubmitted
    }

    /// The `Message-ID` without angle brackets: the id's safe characters at the sender's domain.
    /// What a bounce or the customer's answer names.
    public func messageId() throws(EmailError) -> String {
        let domain = try Self.address(from).split(separator: "@").last.map(String.init) ?? "bridge.invalid"
        return "\(id.filter { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || "-._".contains($0) })@\(domain)"
    }

    /// A Message-ID fit for a header: RFC 5322's `id-left@id-right` characters only, and not too long.
    static func isHeaderSafe(_ messageId: String) -> Bool {
        messageId.utf8.count <= 250 && messageId.contains("@")
            && messageId.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }
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
        let dateFormatter = DateFormatter()
        dateFormatter.locale = Locale(identifier: "en_US_POSIX")
        dateFormatter.timeZone = TimeZone(identifier: "UTC")
        dateFormatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var headers = [
            "Date: \(dateFormatter.string(from: date))",
            "From: \(Self.mailbox(from, address: fromAddress))",
            "To: <\(toAddress)>",
            "Subject: \(Self.encodedWord(subject))",
            "Message-ID: <\(try messageId())>",
            "MIME-Version: 1.0",
        ]
        let thread = answering.filter(Self.isHeaderSafe)
        if let parent = thread.first {
            headers += ["In-Reply-To: <\(parent)>", "References: " + thread.reversed().map { "<\($0)>" }.joined(separator: "\r\n ")]
        }
        if autoSubmitted { headers.append("Auto-Submitted: auto-replied") }
        if let listUnsubscribe {
            guard listUnsubscribe.hasPrefix("https://") || listUnsubscribe.hasPrefix("http://"),
                listUnsubscribe.allSatisfy({ $0.isASCII && !$0.isWhitespace && !"<>,\"".contains($0) })
            else { throw EmailError.invalidUnsubscribeLink }
            headers += ["List-Unsubscribe: <\(listUnsubscribe)>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        }
        let plain = Self.part("text/plain", text)
        guard let html else { return Data((headers.joined(separator: "\r\n") + "\r\n" + plain).utf8) }
        // The boundary is made from the message's id, and base64 parts can never contain it.
        let boundary = "=_alt_" + Signatures.sha256Hex(Data((try messageId()).utf8)).prefix(24)
        headers.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
        let body = "--\(boundary)\r\n\(plain)--\(boundary)\r\n\(Self.part("text/html", html))--\(boundary)--\r\n"
        return Data((headers.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    /// A UTF-8 part of `type`: its headers, a blank line, the text in base64 with CRLF line ends.
    private static func part(_ type: String, _ text: String) -> String {
        let body = Data(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
            .base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return "Content-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\(body)\r\n"
    }

    /// Text as a minimal HTML document: escaped, paragraphs at blank lines, `<br>` at line breaks,
    /// so a mail program that prefers HTML shows the same words.
    public static func html(fromText text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        let paragraphs = escaped.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            .map { "<p>" + $0.replacingOccurrences(of: "\n", with: "<br>\n") + "</p>" }
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + paragraphs.joined(separator: "\n") + "\n</body></html>"
    }

    /// `"Display name" <address>` with the name as an encoded word where needed.
    static func mailbox(_ mailbox: String, address: String) -> String {
        guard let open = mailbox.lastIndex(of: "<") else { return "<\(address)>" }
        let name = mailbox[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard !name.isEmpty else { return "<\(address)>" }
        let plain = name.allSatisfy { $0.isASCII && !$0.isNewline && $0 != "\"" && $0 != "\\" }
        return (plain ? "\"\(name)\"" : encodedWord(name)) + " <\(address)>"
    }

    /// The text as is when printable ASCII, else RFC 2047 `=?UTF-8?B?…?=` words; line breaks become
    /// spaces and other control characters go.
    static func encodedWord(_ text: String) -> String {
        var flat = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if ["\n", "\r", "\t", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) {
                flat.append(" ")
            } else if scalar.properties.generalCategory != .control {
                flat.append(scalar)
            }
        }
        if flat.allSatisfy(\.isASCII) { return String(flat) }
        // Each word stays under 76 characters: whole code points (a character may be any number of
        // them), at most 45 bytes, folded lines.
        var words: [String] = []
        var chunk = String.UnicodeScalarView()
        var bytes = 0
        for scalar in flat {
            let size = String(scalar).utf8.count
            if bytes + size > 45 {
                words.append(String(chunk))
                chunk = String.UnicodeScalarView()
                bytes = 0
            }
            chunk.append(scalar)
            bytes += size
        }
        words.append(String(chunk))
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
