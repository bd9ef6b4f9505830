import Foundation

/// A JSON document (RFC 8259, UTF-8) checked and read once into a flat list of its values in
/// document order, which `WebhookJSONDecoder` decodes from. Strings and numbers stay as byte ranges
/// of the document until a field asks for them, so the fields a payload type ignores cost only
/// their scan. Nesting deeper than `maxDepth` is refused, as Foundation's decoder does: it bounds
/// the recursion of decoding (under 1 MB of stack at the limit; JSONDecoder takes up to 2 MB).
final class JSONTape {
    static let maxDepth = 512

    struct Node {
        enum Kind: UInt8 { case null, `true`, `false`, number, string, array, object }
        var kind: Kind
        /// A string with backslash escapes.
        var escaped = false
        /// A string of ASCII bytes only (its bytes compare as its text does).
        var ascii = true
        /// Elements of an array, members of an object (an object's nodes are key, value, key, value, ...).
        var count = 0
        /// A string's text (between its quotes) or a number's, as bytes of the document.
        var start = 0
        var end = 0
        /// The node after this value and everything inside it.
        var next = 0
    }

    let bytes: [UInt8]
    let nodes: [Node]

    init(_ bytes: [UInt8]) throws(JSONSyntaxError) {
        self.bytes = bytes
        nodes = try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
            var scanner = Scanner(bytes: buffer)
            return try scanner.document()
        }
    }

    /// Where a JSON text stops being JSON.
    struct JSONSyntaxError: Error, CustomStringConvertible {
        var reason: String
        var offset: Int
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// One pass over the bytes, with a stack of the open containers rather than recursion.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        var nodes: [Node] = []
        var open: [Int] = []

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            nodes.reserveCapacity(bytes.count / 10 + 4)
        }

        mutating func document() throws(JSONSyntaxError) -> [Node] {
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // a UTF-8 byte order mark, as Foundation allows
            value: while true {
                if try scanValue() { continue value }  // opened a container: its first element next
                // After a value: close what it ends, or go on to the next element or member.
                while let top = open.last {
                    nodes[top].count += 1
                    skipSpace()
                    let isObject = nodes[top].kind == .object
                    let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if peek() == UInt8(ascii: ",") {
                        i += 1
                        skipSpace()
                        // A comma before the closing bracket is let through, as JSONDecoder does.
                        if peek() != close {
                            if isObject { try scanKey() }
                            continue value
                        }
                    }
                    guard peek() == close else {
                        throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                    }
                    i += 1
                    nodes[top].next = nodes.count
                    open.removeLast()
                }
                break
            }
            skipSpace()
            guard i == bytes.count else { throw fail("unexpected text after the document") }
            return nodes
        }

        /// One value, or the start of a container: true when it opened one that has contents (an
        /// object's first key read), which the caller's loop reads next; an empty one is closed here.
        mutating func scanValue() throws(JSONSyntaxError) -> Bool {
            skipSpace()
            guard let c = peek() else { throw fail("unexpected end of the document") }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = c == UInt8(ascii: "{")
                guard open.count < JSONTape.maxDepth else { throw fail("nesting deeper than \(JSONTape.maxDepth)") }
                i += 1
                let index = nodes.count
                nodes.append(Node(kind: isObject ? .object : .array))
                skipSpace()
                if peek() == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i += 1
                    nodes[index].next = nodes.count
                    return false
                }
                open.append(index)
                if isObject { try scanKey() }
                return true
            case UInt8(ascii: "\""): try scanString()
            case UInt8(ascii: "t"): try literal("true", .true)
            case UInt8(ascii: "f"): try literal("false", .false)
            case UInt8(ascii: "n"): try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
            default: throw fail("unexpected character")
            }
            return false
        }

        /// A member's key and its colon.
        mutating func scanKey() throws(JSONSyntaxError) {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a key") }
            try scanString()
            skipSpace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
        }

        mutating func scanString() throws(JSONSyntaxError) {
            i += 1
            let start = i
            var escaped = false
            var ascii = true
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                if c == UInt8(ascii: "\"") { break }
                if c == UInt8(ascii: "\\") {
                    escaped = true
                    try scanEscape()
                    continue
                }
                guard c >= 0x20 else { throw fail("control character in a string") }
                if c >= 0x80 { ascii = false }
                i += 1
            }
            guard ascii || Self.isValidUTF8(bytes, from: start, to: i) else { throw fail("invalid UTF-8 in a string") }
            nodes.append(Node(kind: .string, escaped: escaped, ascii: ascii, start: start, end: i, next: nodes.count + 1))
            i += 1
        }

        /// `\x` or `\uXXXX`; a UTF-16 surrogate must come in a pair.
        mutating func scanEscape() throws(JSONSyntaxError) {
            i += 1
            guard let e = peek() else { throw fail("unterminated string") }
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                UInt8(ascii: "r"), UInt8(ascii: "t"):
                i += 1
            case UInt8(ascii: "u"):
                let unit = try hex4()
                if (0xDC00...0xDFFF).contains(unit) { throw fail("unpaired UTF-16 surrogate") }
                if (0xD800...0xDBFF).contains(unit) {
                    guard peek() == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired UTF-16 surrogate")
                    }
                    i += 1
                    guard (0xDC00...0xDFFF).contains(try hex4()) else { throw fail("unpaired UTF-16 surrogate") }
                }
            default: throw fail("invalid escape")
            }
        }

        /// The four hex digits after `u` (at `i`), leaving `i` after them.
        mutating func hex4() throws(JSONSyntaxError) -> UInt16 {
            i += 1
            guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
            var unit: UInt16 = 0
            for _ in 0..<4 {
                guard let digit = JSONTape.hexDigit(bytes[i]) else { throw fail("invalid \\u escape") }
                unit = unit << 4 | UInt16(digit)
                i += 1
            }
            return unit
        }

        mutating func scanNumber() throws(JSONSyntaxError) {
            let start = i
            if peek() == UInt8(ascii: "-") { i += 1 }
            guard let first = peek(), Self.isDigit(first) else { throw fail("expected a digit") }
            i += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if peek() == UInt8(ascii: ".") {
                i += 1
                guard let c = peek(), Self.isDigit(c) else { throw fail("expected a digit after '.'") }
                skipDigits()
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                i += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
                guard let c = peek(), Self.isDigit(c) else { throw fail("expected a digit in the exponent") }
                skipDigits()
            }
            nodes.append(Node(kind: .number, start: start, end: i, next: nodes.count + 1))
        }

        mutating func literal(_ word: StaticString, _ kind: Node.Kind) throws(JSONSyntaxError) {
            let length = word.utf8CodeUnitCount
            guard i + length <= bytes.count,
                word.withUTF8Buffer({ expected in (0..<length).allSatisfy { bytes[i + $0] == expected[$0] } })
            else { throw fail("unexpected character") }
            nodes.append(Node(kind: kind, start: i, end: i + length, next: nodes.count + 1))
            i += length
        }

        func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): i += 1
                default: return
                }
            }
        }

        mutating func skipDigits() {
            while let c = peek(), Self.isDigit(c) { i += 1 }
        }

        func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(reason: reason, offset: i) }

        static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

        /// Well-formed UTF-8 (Unicode table 3-7: no overlong forms, surrogates or code points past U+10FFFF).
        static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
            var i = start
            while i < end {
                let c = bytes[i]
                if c < 0x80 {
                    i += 1
                    continue
                }
                let trailing: Int
                var low: UInt8 = 0x80
                var high: UInt8 = 0xBF
                switch c {
                case 0xC2...0xDF: trailing = 1
                case 0xE0: trailing = 2; low = 0xA0
                case 0xED: trailing = 2; high = 0x9F
                case 0xE1...0xEF: trailing = 2
                case 0xF0: trailing = 3; low = 0x90
                case 0xF4: trailing = 3; high = 0x8F
                case 0xF1...0xF3: trailing = 3
                default: return false
                }
                guard i + trailing < end, bytes[i + 1] >= low, bytes[i + 1] <= high else { return false }
                for k in stride(from: 2, through: trailing, by: 1) where bytes[i + k] & 0xC0 != 0x80 { return false }
                i += trailing + 1
            }
            return true
        }
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Reading values

    /// The text of string node `index`, escapes resolved (the scan checked them).
    func string(_ index: Int) -> String {
        let node = nodes[index]
        return bytes.withUnsafeBufferPointer { buffer in
            let text = UnsafeBufferPointer(rebasing: buffer[node.start..<node.end])
            guard node.escaped else { return String(decoding: text, as: UTF8.self) }
            return Self.unescape(text)
        }
    }

    /// Whether string node `index` is `name` (`nameIsASCII` when it is): by its bytes when both are
    /// ASCII without escapes, else as Strings (canonical equivalence, as JSONDecoder compares keys).
    func string(_ index: Int, equals name: String, nameIsASCII: Bool) -> Bool {
        let node = nodes[index]
        guard nameIsASCII, node.ascii, !node.escaped else { return string(index) == name }
        var name = name
        return name.withUTF8 { name in
            guard name.count == node.end - node.start else { return false }
            guard let name = name.baseAddress else { return true }  // both empty
            return bytes.withUnsafeBufferPointer { memcmp(name, $0.baseAddress! + node.start, node.end - node.start) == 0 }
        }
    }

    /// The text of a number node as written.
    func numberText(_ index: Int) -> String {
        let node = nodes[index]
        return String(decoding: bytes[node.start..<node.end], as: UTF8.self)
    }

    /// Number node `index` as `T` when it is a whole number that fits, exactly: `1.0`, `1e3` and
    /// `100e-2` are, `1.5` and `1e19` (as Int64) are not. No detour through Double, which would
    /// round a large id to a neighbour.
    func integer<T: FixedWidthInteger>(_ index: Int, as type: T.Type) -> T? {
        let node = nodes[index]
        var i = node.start
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var magnitude: UInt64 = 0
        var zeros = 0  // zero digits not yet multiplied in: they may be trailing
        var fractionDigits = 0
        var inFraction = false
        func times10(_ value: UInt64, _ power: Int) -> UInt64? {
            var value = value
            for _ in 0..<power {
                let (product, overflow) = value.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                value = product
            }
            return value
        }
        while i < node.end, bytes[i] != UInt8(ascii: "e"), bytes[i] != UInt8(ascii: "E") {
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: ".") {
                inFraction = true
                continue
            }
            if inFraction { fractionDigits += 1 }
            if c == UInt8(ascii: "0") {
                zeros += 1
                continue
            }
            guard let shifted = times10(magnitude, zeros + 1) else { return nil }
            let (sum, overflow) = shifted.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            if overflow { return nil }
            magnitude = sum
            zeros = 0
        }
        var exponent = 0
        if i < node.end {
            i += 1
            let exponentNegative = bytes[i] == UInt8(ascii: "-")
            if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
            while i < node.end {
                // Held below 2^40, far past any body's length, so that no count of zeros or fraction digits can offset it.
                exponent = min(exponent * 10 + Int(bytes[i] - UInt8(ascii: "0")), 1 << 40)
                i += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        guard magnitude != 0 else { return 0 }
        let scale = exponent + zeros - fractionDigits
        guard scale >= 0, scale <= 20, let value = times10(magnitude, scale) else { return nil }
        guard negative else { return T(exactly: value) }
        guard T.isSigned, value <= UInt64(T.max) + 1 else { return nil }
        return value == UInt64(T.max) + 1 ? T.min : 0 - T(value)
    }

    /// Number node `index` as `T`, or nil when it is out of `T`'s range: too large, or so small
    /// that it would read as zero (JSONDecoder refuses both).
    func floatingPoint<T: LosslessStringConvertible & BinaryFloatingPoint>(_ index: Int, as type: T.Type) -> T? {
        let node = nodes[index]
        guard let value = T(numberText(index)), value.isFinite else { return nil }
        if value == 0 {
            // Zero only when every digit before the exponent is.
            for c in bytes[node.start..<node.end] {
                if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
                if c >= UInt8(ascii: "1") && c <= UInt8(ascii: "9") { return nil }
            }
        }
        return value
    }

    /// The text of a string whose escapes the scan checked (so a hex digit is always one, and a
    /// high surrogate is always followed by a low one).
    private static func unescape(_ text: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        func hex(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | UInt32(hexDigit(text[at + $1]) ?? 0) }
        }
        while i < text.count {
            let c = text[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            let e = text[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (hex(i + 2) - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")!)
            default: out.append(e)  // \" \\ \/ (the scan let no other escape through)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
