import Foundation

/// Turns a MIME part's bytes into text by its declared charset. Foundation on Linux decodes
/// UTF-8, ISO-8859-1, Windows-1252, ISO-2022-JP and Shift_JIS (checked by the tests; EUC-JP it
/// does not, so it is not offered);
/// an unknown charset or bytes invalid in it fall back to UTF-8 with replacement characters, so
/// a customer's mail is never dropped for its encoding.
enum Charsets {
    static func encoding(named name: String) -> String.Encoding? {
        switch name.trimmingCharacters(in: .whitespaces).lowercased() {
        case "utf-8", "utf8": .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968": .utf8  // ASCII is a subset; tolerate 8-bit bytes
        case "iso-8859-1", "latin1", "iso8859-1", "l1": .isoLatin1
        case "windows-1252", "cp1252": .windowsCP1252
        case "iso-2022-jp", "csiso2022jp": .iso2022JP
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j", "cp932": .shiftJIS
        case "utf-16": .utf16
        default: nil
        }
    }

    static func decode(_ data: Data, charset: String?) -> String {
        if let charset, let encoding = encoding(named: charset), encoding != .utf8,
           let text = String(data: data, encoding: encoding) {
            return text
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Content-Transfer-Encoding decoders (RFC 2045 §6). Both are lenient, as mail readers are:
/// garbage is skipped, never fatal.
enum TransferEncoding {
    static func decode(_ body: Data, encoding: String?) -> Data {
        switch encoding?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64": base64(body)
        case "quoted-printable": quotedPrintable(body)
        default: body
        }
    }

    /// Base64 ignoring line breaks and anything outside the alphabet; a missing pad is tolerated.
    static func base64(_ body: Data) -> Data {
        var clean = body.filter { byte in
            (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte) || byte == 43 || byte == 47
        }
        // Four characters make three bytes; a dangling single character carries no whole byte.
        if clean.count % 4 == 1 { clean.removeLast() }
        while clean.count % 4 != 0 { clean.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: clean) ?? Data()
    }

    /// Quoted-printable: `=XX` bytes, `=` at a line end is a soft break, anything else is literal.
    static func quotedPrintable(_ body: Data, underscoreIsSpace: Bool = false) -> Data {
        var out = Data()
        out.reserveCapacity(body.count)
        let bytes = [UInt8](body)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "=") {
                if i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) {
                    out.append(high << 4 | low)
                    i += 3
                    continue
                }
                // Soft line break: "=" then optional spaces then CRLF or LF.
                var j = i + 1
                while j < bytes.count, bytes[j] == 32 || bytes[j] == 9 { j += 1 }
                if j < bytes.count, bytes[j] == 13 { j += 1 }
                if j < bytes.count, bytes[j] == 10 {
                    i = j + 1
                    continue
                }
                if j == bytes.count {
                    i = j
                    continue
                }
                out.append(byte)
                i += 1
            } else if underscoreIsSpace && byte == UInt8(ascii: "_") {
                out.append(32)
                i += 1
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}

/// RFC 2047 encoded words in headers: `=?charset?B|Q?text?=`. Whitespace between two adjacent
/// encoded words is dropped (the standard says so, and Japanese subjects split mid-sentence
/// rely on it); consecutive words in the same charset are joined before decoding, because
/// mailers split ISO-2022-JP and UTF-8 sequences across words.
enum EncodedWords {
    static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var result = ""
        var pending: (charset: String, bytes: Data)?
        var gap = ""
        var rest = Substring(text)
        func flush() {
            if let p = pending { result += Charsets.decode(p.bytes, charset: p.charset) }
            pending = nil
        }
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            guard let word = parseWord(rest[start.lowerBound...]) else {
                flush()
                result += gap + before + "=?"
                gap = ""
                rest = rest[start.upperBound...]
                continue
            }
            if pending != nil, before.allSatisfy({ $0 == " " || $0 == "\t" }) {
                // Adjacent encoded words: the whitespace between them is not text.
            } else {
                flush()
                result += before
            }
            if let p = pending, p.charset.lowercased() == word.charset.lowercased() {
                pending = (p.charset, p.bytes + word.bytes)
            } else {
                flush()
                pending = (word.charset, word.bytes)
            }
            rest = rest[word.end...]
            gap = ""
        }
        flush()
        result += rest
        return result
    }

    private static func parseWord(_ text: Substring) -> (charset: String, bytes: Data, end: Substring.Index)? {
        // =?charset?enc?payload?=
        // An encoded word is at most 75 characters (RFC 2047 §2); mailers overrun that, but a bound
        // on the search keeps a header full of "=?" linear.
        let body = text.dropFirst(2).prefix(1024)
        guard let q1 = body.prefix(80).firstIndex(of: "?") else { return nil }
        var charset = String(body[..<q1])
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        let afterCharset = body[body.index(after: q1)...]
        guard let q2 = afterCharset.prefix(4).firstIndex(of: "?") else { return nil }
        let encoding = afterCharset[..<q2].uppercased()
        let payloadStart = afterCharset.index(after: q2)
        guard let end = afterCharset[payloadStart...].range(of: "?=") else { return nil }
        let payload = afterCharset[payloadStart..<end.lowerBound]
        guard !charset.isEmpty, !payload.contains(" ") else { return nil }
        let bytes: Data
        switch encoding {
        case "B": bytes = TransferEncoding.base64(Data(payload.utf8))
        case "Q": bytes = TransferEncoding.quotedPrintable(Data(payload.utf8), underscoreIsSpace: true)
        default: return nil
        }
        return (charset, bytes, end.upperBound)
    }
}
