import Foundation

/// Reads WeChat's XML (`<xml><Name><![CDATA[value]]></Name>...</xml>`) strictly: no DTD, no
/// entity declarations, no processing instructions past the XML declaration, a size limit, a depth
/// and element limit, and only the five predefined and numeric character references. A body that
/// tries anything else is refused before any of it is used.
///
/// Most messages are flat; some events nest (`SendPicsInfo`, `ScanCodeInfo`, `SendLocationInfo`,
/// `CopyrightCheckResult`). A nested element's children are kept under dotted names
/// (`SendLocationInfo.Location_X`); a repeated name keeps its last value.
enum WeChatXML {
    static let maxBytes = 256 << 10
    static let maxDepth = 8
    static let maxElements = 2_000

    enum Failure: Error, Equatable {
        case tooLarge
        case forbidden(String)
        case invalid(String)
    }

    static func fields(_ data: Data) throws(Failure) -> [String: String] {
        guard data.count <= maxBytes else { throw .tooLarge }
        guard let text = String(data: data, encoding: .utf8) else { throw .invalid("not UTF-8") }
        var scanner = Scanner(text)
        scanner.skipSpace()
        if scanner.take("<?xml") {
            guard scanner.skip(past: "?>") else { throw .invalid("unterminated XML declaration") }
            scanner.skipSpace()
        }
        if scanner.peek("<!") { throw .forbidden("DOCTYPE and entity declarations are not allowed") }
        guard scanner.take("<xml>") else { throw .invalid("expected <xml>") }
        var reader = Reader(scanner: scanner)
        try reader.children(of: "xml", prefix: "", depth: 1)
        reader.scanner.skipSpace()
        guard reader.scanner.atEnd else { throw .invalid("content after </xml>") }
        return reader.fields
    }

    private struct Reader {
        var scanner: Scanner
        var fields: [String: String] = [:]
        var elements = 0

        /// Reads elements up to `parent`'s end tag, recording each under `prefix + name`.
        mutating func children(of parent: String, prefix: String, depth: Int) throws(Failure) {
            while true {
                scanner.skipSpace()
                if scanner.take("</") {
                    guard scanner.name() == parent, scanner.take(">") else { throw .invalid("mismatched end of \(parent)") }
                    return
                }
                try skipComment()
                if scanner.take("</") {
                    guard scanner.name() == parent, scanner.take(">") else { throw .invalid("mismatched end of \(parent)") }
                    return
                }
                guard scanner.take("<"), let name = scanner.name(), scanner.take(">") else {
                    throw scanner.atEnd ? .invalid("unterminated element \(parent)") : .invalid("expected an element")
                }
                elements += 1
                guard elements <= maxElements else { throw .forbidden("more than \(maxElements) elements") }
                try element(name, path: prefix + name, depth: depth + 1)
            }
        }

        /// Reads an element's content after its start tag: text and CDATA, or child elements.
        mutating func element(_ name: String, path: String, depth: Int) throws(Failure) {
            var value = ""
            while !scanner.peek("</") {
                if scanner.take("<![CDATA[") {
                    guard let cdata = scanner.until("]]>") else { throw .invalid("unterminated CDATA in \(name)") }
                    value += cdata
                } else if scanner.peek("<!--") {
                    try skipComment()
                } else if scanner.peek("<!") || scanner.peek("<?") {
                    throw .forbidden("markup declarations are not allowed")
                } else if scanner.peek("<") {
                    guard depth < maxDepth else { throw .forbidden("elements nested deeper than \(maxDepth)") }
                    try children(of: name, prefix: path + ".", depth: depth)
                    fields[path] = value.trimmingCharacters(in: .whitespacesAndNewlines)
                    return
                } else if let chunk = scanner.characters() {
                    value += try decodeReferences(chunk)
                } else {
                    throw .invalid("unterminated element \(name)")
                }
            }
            guard scanner.take("</"), scanner.name() == name, scanner.take(">") else { throw .invalid("mismatched end of \(name)") }
            fields[path] = value
        }

        mutating func skipComment() throws(Failure) {
            while scanner.peek("<!--") {
                guard scanner.skip(past: "-->") else { throw .invalid("unterminated comment") }
                scanner.skipSpace()
            }
            if scanner.peek("<!") || scanner.peek("<?") { throw .forbidden("markup declarations are not allowed") }
        }
    }

    /// Resolves the five predefined and numeric character references, on Unicode scalars.
    static func decodeReferences(_ s: Substring.UnicodeScalarView) throws(Failure) -> String {
        var out = String.UnicodeScalarView()
        var rest = s[...]
        while let amp = rest.firstIndex(of: "&") {
            out.append(contentsOf: rest[..<amp])
            guard let semi = rest[amp...].firstIndex(of: ";") else { throw .invalid("bare &") }
            let name = String(String.UnicodeScalarView(rest[rest.index(after: amp)..<semi]))
            switch name {
            case "lt": out.append("<")
            case "gt": out.append(">")
            case "amp": out.append("&")
            case "quot": out.append("\"")
            case "apos": out.append("'")
            default:
                let scalar: UInt32? = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16) : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
                guard let scalar, let character = Unicode.Scalar(scalar) else { throw .forbidden("entity &\(name); is not allowed") }
                out.append(character)
            }
            rest = rest[rest.index(after: semi)...]
        }
        out.append(contentsOf: rest)
        return String(out)
    }

    /// Reads the text scalar by scalar: a customer's text ending in a scalar that joins the next
    /// one into a `Character` (U+0600 before `]]>` or `</`) must not hide the markup after it.
    private struct Scanner {
        let text: Substring.UnicodeScalarView
        var index: Substring.UnicodeScalarView.Index

        init(_ text: String) {
            self.text = text.unicodeScalars[...]
            self.index = self.text.startIndex
        }

        var atEnd: Bool { index == text.endIndex }
        func peek(_ s: String) -> Bool { text[index...].starts(with: s.unicodeScalars) }

        mutating func take(_ s: String) -> Bool {
            guard peek(s) else { return false }
            index = text.index(index, offsetBy: s.unicodeScalars.count)
            return true
        }

        mutating func skipSpace() {
            while index < text.endIndex, text[index].properties.isWhitespace { index = text.index(after: index) }
        }

        mutating func until(_ end: String) -> String? {
            let marker = Array(end.unicodeScalars)
            var i = index
            while i < text.endIndex {
                if text[i...].starts(with: marker) {
                    let value = String(String.UnicodeScalarView(text[index..<i]))
                    index = text.index(i, offsetBy: marker.count)
                    return value
                }
                i = text.index(after: i)
            }
            return nil
        }

        mutating func skip(past end: String) -> Bool { until(end) != nil }

        mutating func name() -> String? {
            let start = index
            while index < text.endIndex, text[index].properties.isAlphabetic || text[index].properties.numericType != nil || text[index] == "_" {
                index = text.index(after: index)
            }
            return start == index ? nil : String(String.UnicodeScalarView(text[start..<index]))
        }

        mutating func characters() -> Substring.UnicodeScalarView? {
            let start = index
            while index < text.endIndex, text[index] != "<" { index = text.index(after: index) }
            return index == text.endIndex ? nil : text[start..<index]
        }
    }
}
