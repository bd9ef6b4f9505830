import Foundation

/// One element of a platform's event array, decoded on its own: a failure to decode it is kept
/// with the element's JSON instead of failing the whole body (see `ParsedWebhook`).
public struct EachEvent<Event: Decodable>: Decodable {
    public let decoded: Result<Event, WebhookError>
    /// The element as JSON (re-encoded with sorted keys), for keeping an unreadable event.
    public let raw: String

    public init(from decoder: any Decoder) throws {
        raw = (try? JSONValue(from: decoder)).map(\.text) ?? "null"
        do {
            decoded = .success(try Event(from: decoder))
        } catch {
            decoded = .failure(.malformed(PlatformAPI.describe(error, at: decoder.codingPath)))
        }
    }

    /// Reads the element with `map`, collecting its events or keeping it as unreadable.
    public func read(into parsed: inout ParsedWebhook, _ map: (Event) throws(WebhookError) -> [InboundEvent]) {
        parsed.add(raw: raw) { () throws(WebhookError) in try map(decoded.get()) }
    }
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

    /// Compact JSON with sorted keys.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
