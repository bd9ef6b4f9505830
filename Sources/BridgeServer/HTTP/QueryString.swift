import ChannelKit
import Foundation
import Hummingbird

/// Query strings read strictly. Hummingbird's `queryParameters` repairs bytes that are not UTF-8
/// and passes `%00` through, and a NUL reached SQLite's full-text syntax as a 500. Every route
/// reads its query here (`Request.query()`), and so do saved and bulk filters, so a value is
/// either valid UTF-8 without NUL or a 400 naming the parameter.
enum QueryString {
    static func parameters(_ raw: Substring?) throws -> Parameters {
        var parameters = Parameters()
        for part in (raw ?? "").split(separator: "&") {
            let (rawName, rawValue) = part.firstIndex(of: "=").map { (part[..<$0], part[part.index(after: $0)...]) } ?? (part, "")
            let name = try decode(rawName, what: "a query parameter's name")
            parameters.append(key: name[...], value: try decode(rawValue, what: "query parameter \"\(name)\"")[...])
        }
        return parameters
    }

    /// Percent-decodes `text` (`+` stays `+`, as in Hummingbird's reading).
    private static func decode(_ text: Substring, what: String) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var input = text.utf8.makeIterator()
        while let byte = input.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = input.next().flatMap(Hex.nibble), let low = input.next().flatMap(Hex.nibble) else {
                throw invalid(what, "has a malformed percent escape (% and two hex digits)")
            }
            bytes.append(high << 4 | low)
        }
        let string = String(decoding: bytes, as: UTF8.self)
        // Decoding replaces bytes that are not UTF-8 with U+FFFD, so a valid text round-trips.
        guard string.utf8.elementsEqual(bytes) else { throw invalid(what, "is not valid UTF-8") }
        guard !bytes.contains(0) else { throw invalid(what, "must not contain a NUL character") }
        return string
    }

    private static func invalid(_ what: String, _ problem: String) -> APIError {
        APIError.badRequest("invalid_query", "\(what) \(problem)")
    }
}

extension Request {
    /// This request's query parameters, read strictly (see `QueryString`).
    func query() throws -> Parameters {
        try QueryString.parameters(uri.query.map { $0[...] })
    }
}

/// Typed reads of query parameters, each as openapi.yaml types it: a value that does not fit
/// (not a whole number, out of range, not `true`/`false`, not one of the values, or given twice)
/// is a 400 `invalid_<name>`, never clamped or ignored.
extension Parameters {
    /// The one value of `name`, or nil when it is absent.
    func single(_ name: String) throws -> Substring? {
        let values = self[values: name[...]]
        guard values.count <= 1 else { throw APIError.badRequest("invalid_\(name)", "\(name) is given more than once") }
        return values.first
    }

    /// A whole number in `range`.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let text = try single(name) else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            let upper = range.upperBound == .max ? "" : " to \(range.upperBound)"
            throw APIError.badRequest("invalid_\(name)", "\(name) must be a whole number from \(range.lowerBound)\(upper)")
        }
        return value
    }

    /// An id: a whole number from 1.
    func id(_ name: String) throws -> Int64? {
        guard let text = try single(name) else { return nil }
        guard let value = Int64(text), value > 0 else { throw APIError.badRequest("invalid_\(name)", "\(name) is an id (a positive whole number)") }
        return value
    }

    /// `true` or `false`.
    func boolean(_ name: String) throws -> Bool? {
        switch try single(name) {
        case nil: return nil
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("invalid_\(name)", "\(name) must be true or false")
        }
    }

    /// One of an enum's values.
    func value<E: RawRepresentable & CaseIterable>(_ name: String, as type: E.Type) throws -> E? where E.RawValue == String {
        try single(name).map { try parseEnum(String($0), as: type, field: name) }
    }
}
