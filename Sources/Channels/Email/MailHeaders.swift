import Foundation

/// The header block of a message or a MIME part (RFC 5322 §2.2): folded lines joined, names
/// compared without case, values kept raw (decode encoded words with `MailHeaders.decoded`).
public struct MailHeaders: Sendable, Equatable {
    /// In order of appearance; a name may repeat (Received, References in broken mailers).
    public private(set) var fields: [(name: String, value: String)]

    /// Mail from the wild has no bound on header count; more than this is refused as hostile.
    static let maxFields = 1_000

    public init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    public static func == (lhs: MailHeaders, rhs: MailHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The first value of `name` (case-insensitive), unfolded, surrounding spaces removed.
    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// `name`'s value with RFC 2047 encoded words decoded (Subject, From's display name).
    public func decoded(_ name: String) -> String? {
        self[name].map(EncodedWords.decode)
    }

    /// Reads the header lines up to the first empty line. Lines are separated by CRLF or LF; a
    /// line that starts with a space or tab continues the previous one (folding). A line without
    /// a colon is skipped, as mail readers do, instead of failing the whole message.
    static func parse(_ lines: some Sequence<Substring>) -> MailHeaders {
        var fields: [(name: String, value: String)] = []
        for line in lines {
            if let first = line.first, first == " " || first == "\t" {
                guard !fields.isEmpty else { continue }
                fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.contains(" ") else { continue }
            guard fields.count < maxFields else { break }
            fields.append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return MailHeaders(fields: fields.map { ($0.name, $0.value.trimmingCharacters(in: .whitespaces)) })
    }
}

/// A structured header value with parameters, e.g. `multipart/mixed; boundary="x"` (RFC 2045 §5.1)
/// or `attachment; filename=a.pdf`. Parameter names are lowercased; RFC 2231 `name*=charset''…`
/// values are decoded; `name` values written as encoded words (common in practice) are decoded too.
public struct HeaderParameters: Sendable, Equatable {
    /// The part before the first `;`, lowercased (`text/plain`, `attachment`).
    public var value: String
    public var parameters: [String: String]

    public init(_ raw: String) {
        let pieces = Self.split(raw)
        value = (pieces.first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        var parameters: [String: String] = [:]
        var continued: [String: [(Int, String, Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var text = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
                text = String(text.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            }
            let extended = name.hasSuffix("*")
            if extended { name.removeLast() }
            // RFC 2231 continuations: name*0, name*1*, ...
            if let star = name.lastIndex(of: "*"), let index = Int(name[name.index(after: star)...]) {
                continued[String(name[..<star]), default: []].append((index, text, extended))
                continue
            }
            parameters[name] = extended ? Self.decode2231(text) : EncodedWords.decode(text)
        }
        for (name, parts) in continued where parameters[name] == nil {
            let sorted = parts.sorted { $0.0 < $1.0 }
            let joined = sorted.map(\.1).joined()
            parameters[name] = sorted.first?.2 == true ? Self.decode2231(joined) : joined
        }
        self.parameters = parameters
    }

    public subscript(name: String) -> String? { parameters[name] }

    /// Splits on `;` outside quoted strings.
    private static func split(_ raw: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in raw {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                current.append(character)
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                current.append(character)
            } else if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces
    }

    /// `utf-8'en'%E2%82%AC.pdf` → `€.pdf`.
    private static func decode2231(_ text: String) -> String {
        let quoteParts = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        let charset = quoteParts.count == 3 ? String(quoteParts[0]) : "us-ascii"
        let encoded = quoteParts.count == 3 ? quoteParts[2] : Substring(text)
        var bytes: [UInt8] = []
        var rest = Array(encoded.utf8)[...]
        while let byte = rest.popFirst() {
            if byte == UInt8(ascii: "%"), rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                rest = rest.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return Charsets.decode(Data(bytes), charset: charset)
    }
}
