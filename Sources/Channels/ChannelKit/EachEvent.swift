import Foundation

/// One element of a platform's event array, decoded on its own: a failure to decode it is kept
/// with the element's JSON instead of failing the whole body (see `ParsedWebhook`).
///
/// The element's text is taken from the body only for an event that cannot be read (by its path),
/// so a readable delivery is decoded once, as before.
public struct EachEvent<Event: Decodable>: Decodable {
    public let decoded: Result<Event, WebhookError>
    /// Where the element is in the body: object keys and array indices.
    let path: [JSONPath]

    public init(from decoder: any Decoder) throws {
        path = decoder.codingPath.map { $0.intValue.map(JSONPath.index) ?? .key($0.stringValue) }
        do {
            decoded = .success(try Event(from: decoder))
        } catch {
            decoded = .failure(.malformed(PlatformAPI.describe(error, at: decoder.codingPath)))
        }
    }

    /// Reads the element with `map`, collecting its events, or keeping it as unreadable with its
    /// text out of `body` (the webhook's body it was decoded from).
    public func read(into parsed: inout ParsedWebhook, body: Data, _ map: (Event) throws(WebhookError) -> [InboundEvent]) {
        parsed.add(elementAt: path, of: body) { () throws(WebhookError) in try map(decoded.get()) }
    }
}

/// A step into a JSON document.
enum JSONPath: Sendable, Equatable {
    case key(String)
    case index(Int)
}

/// Any JSON value: what an unreadable event is kept as.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try value.isFinite ? container.encode(value) : container.encodeNil()
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The element at `path` in the JSON `body`, as compact JSON (the whole body if it is not there).
    /// `read` is the body as read before (nil the first time, then kept there for the next element).
    static func element(at path: [JSONPath], in body: Data, read: inout JSONValue??) -> String {
        if read == nil { read = .some(try? WebhookJSONDecoder.decode(JSONValue.self, from: body)) }
        guard var value = read ?? nil else { return String(decoding: body, as: UTF8.self) }
        for step in path {
            switch (step, value) {
            case (.key(let key), .object(let object)) where object[key] != nil: value = object[key]!
            case (.index(let index), .array(let array)) where array.indices.contains(index): value = array[index]
            default: return String(decoding: body, as: UTF8.self)
            }
        }
        return value.text
    }

    /// Compact JSON with sorted keys.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
