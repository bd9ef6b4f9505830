import Foundation

/// One MIME entity (RFC 2045/2046): its headers and either its decoded body (a leaf) or its
/// parts (multipart, or the enclosed message of a `message/rfc822` part, as DSNs carry).
///
/// Parsing never fails: a missing boundary, a truncated part or an unknown encoding yields what
/// could be read, as mail readers do. Nesting and part counts are bounded so a hostile message
/// costs little (`maxDepth`, `maxParts`).
public struct MIMEPart: Sendable {
    public var headers: MailHeaders
    public var contentType: HeaderParameters
    /// The transfer-decoded bytes of a leaf part (empty for a multipart).
    public var body: Data
    public var parts: [MIMEPart]

    static let maxDepth = 16
    static let maxParts = 256

    /// `text/plain` when the header is absent or unreadable (RFC 2045 §5.2), or `message/rfc822`
    /// inside `multipart/digest`.
    public var mimeType: String { contentType.value.contains("/") ? contentType.value : "text/plain" }
    public var isMultipart: Bool { mimeType.hasPrefix("multipart/") }
    public var disposition: HeaderParameters? { headers["Content-Disposition"].map(HeaderParameters.init) }
    /// The attachment's name: Content-Disposition's filename, else Content-Type's name.
    public var fileName: String? { disposition?["filename"] ?? contentType["name"] }
    public var isAttachment: Bool { disposition?.value == "attachment" || (fileName != nil && !mimeType.hasPrefix("text/")) }

    /// The text of a `text/*` leaf in its declared charset.
    public var text: String { Charsets.decode(body, charset: contentType["charset"]) }

    public static func parse(_ data: Data) -> MIMEPart {
        var budget = maxParts
        return parse(Array(data)[...], depth: 0, budget: &budget)
    }

    /// Every leaf, depth first, in document order.
    public var leaves: [MIMEPart] {
        parts.isEmpty ? (isMultipart ? [] : [self]) : parts.flatMap(\.leaves)
    }

    private static func parse(_ bytes: ArraySlice<UInt8>, depth: Int, budget: inout Int) -> MIMEPart {
        let (headerLines, bodyStart) = splitHeader(bytes)
        let headers = MailHeaders.parse(headerLines)
        let contentType = HeaderParameters(headers["Content-Type"] ?? "text/plain")
        let rawBody = bytes[bodyStart...]
        var part = MIMEPart(headers: headers, contentType: contentType, body: Data(), parts: [])
        budget -= 1
        if part.isMultipart, let boundary = contentType["boundary"], !boundary.isEmpty, depth < maxDepth {
            for piece in splitMultipart(rawBody, boundary: boundary) {
                guard budget > 0 else { break }
                part.parts.append(parse(piece, depth: depth + 1, budget: &budget))
            }
        } else if part.mimeType == "message/rfc822" || part.mimeType == "message/global", depth < maxDepth, budget > 0 {
            let decoded = TransferEncoding.decode(Data(rawBody), encoding: headers["Content-Transfer-Encoding"])
            part.parts = [parse(Array(decoded)[...], depth: depth + 1, budget: &budget)]
        } else {
            part.body = TransferEncoding.decode(Data(rawBody), encoding: headers["Content-Transfer-Encoding"])
        }
        return part
    }

    /// The header lines (without line ends) and where the body starts: after the first empty line.
    /// A message with no empty line is all header.
    private static func splitHeader(_ bytes: ArraySlice<UInt8>) -> ([Substring], Int) {
        var lines: [Substring] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let end = bytes[index...].firstIndex(of: 10) ?? bytes.endIndex
            var lineEnd = end
            if lineEnd > index, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
            let next = end < bytes.endIndex ? end + 1 : end
            if lineEnd == index { return (lines, next) }
            lines.append(Substring(String(decoding: bytes[index..<lineEnd], as: UTF8.self)))
            index = next
        }
        return (lines, bytes.endIndex)
    }

    /// The parts between `--boundary` lines, up to `--boundary--`; the preamble and epilogue are
    /// dropped. The line break before each delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    private static func splitMultipart(_ bytes: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var pieces: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let end = bytes[index...].firstIndex(of: 10) ?? bytes.endIndex
            let line = bytes[index..<end]
            if line.starts(with: delimiter) {
                let after = line.dropFirst(delimiter.count)
                let closing = after.starts(with: [45, 45])
                let rest = closing ? after.dropFirst(2) : after
                if rest.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
                    if let start = partStart {
                        var stop = index
                        if stop > start, bytes[stop - 1] == 10 { stop -= 1 }
                        if stop > start, bytes[stop - 1] == 13 { stop -= 1 }
                        pieces.append(bytes[start..<max(start, stop)])
                    }
                    if closing { return pieces }
                    partStart = end < bytes.endIndex ? end + 1 : end
                }
            }
            index = end < bytes.endIndex ? end + 1 : end
        }
        // No closing delimiter (a truncated message): keep the last part as it is.
        if let start = partStart, start < bytes.endIndex { pieces.append(bytes[start...]) }
        return pieces
    }
}
