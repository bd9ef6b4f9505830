import Foundation

/// Plain text from a customer's HTML mail. Customer HTML is never rendered: tags are dropped,
/// the contents of `script`, `style`, `head` and `title` are dropped, block elements become line
/// breaks, `blockquote` lines are prefixed with `> ` (so quoted history trims like plain text),
/// and character references are decoded.
enum HTMLText {
    private static let dropped: Set<String> = ["script", "style", "head", "title", "template"]
    private static let blocks: Set<String> = [
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "blockquote", "pre", "section", "article",
    ]

    static func text(_ html: String) -> String {
        var output = Output()
        var rest = Substring(html)
        var skipping: String?
        while !rest.isEmpty {
            guard let open = rest.firstIndex(of: "<") else {
                if skipping == nil { output.append(decodeEntities(String(rest))) }
                break
            }
            if skipping == nil { output.append(decodeEntities(String(rest[..<open]))) }
            let tagText = rest[rest.index(after: open)...]
            if tagText.hasPrefix("!--") {
                rest = tagText.range(of: "-->").map { tagText[$0.upperBound...] } ?? ""
                continue
            }
            guard let close = tagText.firstIndex(of: ">") else { break }
            let tag = tagText[..<close]
            rest = tagText[tagText.index(after: close)...]
            let closing = tag.hasPrefix("/")
            let name = tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
            if let skipped = skipping {
                if closing && name == skipped { skipping = nil }
                continue
            }
            if dropped.contains(name) && !closing && !tag.hasSuffix("/") {
                skipping = name
                continue
            }
            if name == "blockquote" {
                output.newLine()
                output.quoteDepth = max(0, output.quoteDepth + (closing ? -1 : 1))
            } else if blocks.contains(name) {
                output.newLine(paragraph: name == "p" && closing)
            }
        }
        return output.finished()
    }

    /// Builds lines: whitespace inside a line collapses to one space (HTML's rule), and every line
    /// inside a blockquote starts with `>`.
    private struct Output {
        var lines: [String] = [""]
        var quoteDepth = 0
        var lineQuote = 0

        mutating func append(_ text: String) {
            for character in text {
                if character.isWhitespace {
                    if let last = lines[lines.count - 1].last, last != " " { lines[lines.count - 1].append(" ") }
                    continue
                }
                if lines[lines.count - 1].isEmpty {
                    lineQuote = quoteDepth
                    if quoteDepth > 0 { lines[lines.count - 1] = String(repeating: ">", count: quoteDepth) + " " }
                }
                lines[lines.count - 1].append(character)
            }
        }

        mutating func newLine(paragraph: Bool = false) {
            lines[lines.count - 1] = String(lines[lines.count - 1].drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            if !lines[lines.count - 1].isEmpty { lines.append("") }
            if paragraph { lines.append("") }
        }

        func finished() -> String {
            var result: [String] = []
            for line in lines.map({ $0.trimmingCharacters(in: .whitespaces) }) {
                // At most one empty line in a row.
                if line.isEmpty, result.last?.isEmpty ?? true { continue }
                result.append(line)
            }
            while result.last?.isEmpty == true { result.removeLast() }
            return result.joined(separator: "\n")
        }
    }

    private static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®", "hellip": "…",
        "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "euro": "€", "yen": "¥",
    ]

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(12).firstIndex(of: ";") {
                let name = after[..<semicolon]
                var replacement: String?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    replacement = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if name.hasPrefix("#") {
                    replacement = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else {
                    replacement = named[name.lowercased()]
                }
                if let replacement {
                    result += replacement
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "&"
            rest = after
        }
        return result + rest
    }
}
