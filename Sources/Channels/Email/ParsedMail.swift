import Foundation

/// A received mail, read into what the inbox needs: who wrote, which conversation it belongs to
/// (Message-ID, In-Reply-To, References, the subject's ticket token), the text to show (quotes
/// and signature trimmed) and the whole text, attachments, and whether a machine sent it.
public struct ParsedMail: Sendable, Equatable {
    /// Message-ID without angle brackets; nil when the mail has none.
    public var messageId: String?
    public var inReplyTo: [String]
    public var references: [String]
    public var subject: String
    public var from: MailAddress?
    public var date: Date?
    /// The text to show: quoted history and signature trimmed.
    public var text: String
    /// The text as the customer sent it, before trimming.
    public var fullText: String
    public var attachments: [MailAttachment]
    public var origin: MailOrigin

    /// The ticket number of the last `[#123]` token in the subject (our replies put theirs last,
    /// after any the customer's own subject had).
    public var ticketToken: Int? { Self.ticketToken(in: subject) }

    /// Every id this mail answers, nearest first: In-Reply-To, then References from the newest.
    public var threadIds: [String] {
        var seen = Set<String>()
        return (inReplyTo + references.reversed()).filter { seen.insert($0).inserted }
    }

    public static func parse(_ data: Data) -> ParsedMail {
        let root = MIMEPart.parse(data)
        let headers = root.headers
        let from = headers["From"].flatMap(MailAddress.parse)
        let (full, attachments) = Self.content(of: root)
        return ParsedMail(
            messageId: MessageIDs.parse(headers["Message-ID"] ?? "").first,
            inReplyTo: MessageIDs.parse(headers["In-Reply-To"] ?? ""),
            references: MessageIDs.parse(headers["References"] ?? ""),
            subject: headers.decoded("Subject") ?? "",
            from: from,
            date: headers["Date"].flatMap(MailDate.parse),
            text: QuoteTrimmer.trim(full),
            fullText: full.trimmingCharacters(in: .whitespacesAndNewlines),
            attachments: attachments,
            origin: MailOrigin.classify(root, from: from))
    }

    static func ticketToken(in subject: String) -> Int? {
        var rest = Substring(subject)
        var last: Int?
        while let start = rest.range(of: "[#") {
            let digits = rest[start.upperBound...].prefix { $0.isASCII && $0.isNumber }
            let after = rest[start.upperBound...].dropFirst(digits.count)
            if !digits.isEmpty, digits.count <= 12, after.first == "]", let number = Int(digits) { last = number }
            rest = rest[start.upperBound...]
        }
        return last
    }

    /// The body text (text/plain preferred, else HTML turned into text) and the attachments.
    private static func content(of root: MIMEPart) -> (String, [MailAttachment]) {
        var plain: String?
        var html: String?
        var attachments: [MailAttachment] = []
        func walk(_ part: MIMEPart) {
            if part.mimeType == "message/rfc822" || part.mimeType == "message/global" {
                attachments.append(MailAttachment(fileName: part.fileName ?? "message.eml", mimeType: "message/rfc822", data: Data()))
                return
            }
            if part.isMultipart {
                part.parts.forEach(walk)
                return
            }
            if part.isAttachment || !part.mimeType.hasPrefix("text/") {
                attachments.append(MailAttachment(fileName: part.fileName ?? "attachment", mimeType: part.mimeType, data: part.body))
                return
            }
            switch part.mimeType {
            case "text/plain": if plain == nil { plain = part.text }
            case "text/html": if html == nil { html = part.text }
            default: attachments.append(MailAttachment(fileName: part.fileName ?? "attachment", mimeType: part.mimeType, data: part.body))
            }
        }
        walk(root)
        let text = plain ?? html.map(HTMLText.text) ?? ""
        return (text.replacingOccurrences(of: "\r\n", with: "\n"), attachments.filter { !$0.data.isEmpty })
    }
}

/// A file attached to a mail (also an inline image of `multipart/related`).
public struct MailAttachment: Sendable, Equatable {
    public var fileName: String
    public var mimeType: String
    public var data: Data
}

/// Who sent a mail: a person, or a machine answering (never a ticket, never auto-acknowledged).
public enum MailOrigin: Sendable, Equatable {
    case person
    /// An auto-reply (out of office, a list's notice): recorded nowhere.
    case automatic(reason: String)
    /// A delivery status notification: `originalMessageId` is the Message-ID of the mail that
    /// failed, when the report names it.
    case bounce(originalMessageId: String?, reason: String)

    static func classify(_ root: MIMEPart, from: MailAddress?) -> MailOrigin {
        let headers = root.headers
        let localPart = from?.address.split(separator: "@").first.map { $0.lowercased() } ?? ""
        if root.mimeType == "multipart/report" || localPart == "mailer-daemon" || localPart == "postmaster" {
            return bounce(root)
        }
        if let auto = headers["Auto-Submitted"]?.lowercased(), !auto.hasPrefix("no") {
            return .automatic(reason: "Auto-Submitted: \(auto)")
        }
        if let precedence = headers["Precedence"]?.lowercased().trimmingCharacters(in: .whitespaces), ["bulk", "junk", "list", "auto_reply"].contains(precedence) {
            return .automatic(reason: "Precedence: \(precedence)")
        }
        // A mailing list's or a newsletter's mail (RFC 2919, 2369), and mail with the null sender
        // that only machines use (RFC 5321: notifications must not be answered).
        for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "List-Id", "List-Unsubscribe"] where headers[name] != nil {
            return .automatic(reason: name)
        }
        if headers["Return-Path"]?.trimmingCharacters(in: .whitespaces) == "<>" {
            return .automatic(reason: "Return-Path: <>")
        }
        return .person
    }

    /// Reads the machine-readable part of a DSN (RFC 3464): the failed recipient's status and
    /// diagnostic, and the returned message's (or headers') Message-ID.
    private static func bounce(_ root: MIMEPart) -> MailOrigin {
        var original: String?
        var reason: String?
        func walk(_ part: MIMEPart) {
            switch part.mimeType {
            case "message/delivery-status", "message/global-delivery-status":
                // Per-message and per-recipient field groups separated by blank lines: read them all.
                // ("\r\n" is one Character in Swift: split on newlines, not on "\n".)
                let fields = MailHeaders.parse(Charsets.decode(part.body, charset: "utf-8").split(whereSeparator: \.isNewline))
                let status = fields.fields.last { $0.name.lowercased() == "status" }?.value
                let diagnostic = fields.fields.last { $0.name.lowercased() == "diagnostic-code" }?.value
                let action = fields.fields.last { $0.name.lowercased() == "action" }?.value
                reason = [action, status, diagnostic].compactMap { $0 }.joined(separator: "; ")
            case "text/rfc822-headers":
                let headers = MailHeaders.parse(Charsets.decode(part.body, charset: "utf-8").split(whereSeparator: \.isNewline))
                original = original ?? headers["Message-ID"].flatMap { MessageIDs.parse($0).first }
            case "message/rfc822", "message/global":
                original = original ?? part.parts.first?.headers["Message-ID"].flatMap { MessageIDs.parse($0).first }
            default:
                part.parts.forEach(walk)
            }
        }
        walk(root)
        if original == nil { original = MessageIDs.parse(root.headers["In-Reply-To"] ?? "").first }
        return .bounce(originalMessageId: original, reason: (reason?.isEmpty == false ? reason : nil) ?? root.headers.decoded("Subject") ?? "undeliverable")
    }
}

/// An address with its display name: `Ana <ana@example.com>`, `"Doe, Ana" <ana@…>`, `ana@…`,
/// `ana@… (Ana)`. The address is kept as written; `key` is how the inbox matches it.
public struct MailAddress: Sendable, Equatable {
    public var name: String?
    public var address: String

    /// The address with ASCII letters lowered, as the inbox keys e-mail addresses (a campaign
    /// contact and a mail's sender are one contact).
    public var key: String {
        String(String.UnicodeScalarView(address.unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 }))
    }

    static func parse(_ raw: String) -> MailAddress? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if let open = text.lastIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            let address = text[text.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            var name = EncodedWords.decode(text[..<open].trimmingCharacters(in: .whitespaces))
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"") }
            guard address.contains("@") else { return nil }
            return MailAddress(name: name.isEmpty ? nil : name, address: address)
        }
        var address = text
        var name: String?
        if let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close {
            name = EncodedWords.decode(String(text[text.index(after: open)..<close]))
            address = text[..<open].trimmingCharacters(in: .whitespaces)
        }
        guard address.contains("@"), !address.contains(" ") else { return nil }
        return MailAddress(name: name, address: address)
    }
}

/// `<a@b> <c@d>` → `["a@b", "c@d"]`. Ids without brackets (some mailers) are taken whole.
enum MessageIDs {
    static func parse(_ raw: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(raw)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let id = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !id.isEmpty, ids.count < 100 { ids.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        if ids.isEmpty {
            ids = raw.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init).filter { $0.contains("@") }
        }
        return ids
    }
}

/// RFC 5322 dates (`Tue, 14 Nov 2023 22:13:20 +0000`, also without the weekday or seconds, with
/// a trailing comment like `(UTC)`, or an obsolete zone name).
enum MailDate {
    static func parse(_ raw: String) -> Date? {
        var text = raw
        if let comment = text.firstIndex(of: "(") { text = String(text[..<comment]) }
        if let comma = text.firstIndex(of: ",") { text = String(text[text.index(after: comma)...]) }
        text = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for (zone, offset) in [("UT", "+0000"), ("GMT", "+0000"), ("EST", "-0500"), ("EDT", "-0400"), ("PST", "-0800"), ("PDT", "-0700"), ("JST", "+0900")]
        where text.hasSuffix(" " + zone) {
            text = String(text.dropLast(zone.count)) + offset
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        for format in ["d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm Z", "d MMM yy HH:mm:ss Z"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
