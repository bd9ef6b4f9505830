import Foundation
import Hummingbird
import NIOCore

/// Request helpers every controller uses: ids from the path, JSON bodies, enum values.
extension BridgeRequestContext {
    /// The positive whole number in path parameter `name`.
    func id(_ name: String = "id") throws -> Int64 {
        guard let text = parameters.get(name), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("invalid_id", "ids are positive whole numbers")
        }
        return id
    }
}

/// A request body type with fields where `null` means something (clear the value). Every other
/// `null` a body gives one of its fields is refused: openapi.yaml types those fields without
/// `null`, and Swift's decoding would read it as "left out".
protocol NullableFields {
    /// Dotted paths of the fields that take `null`; `*` stands for any key of an object.
    static var nullableFields: Set<String> { get }
}

extension Request {
    /// The body decoded as JSON, or a 400 that says why (413 over `maxBytes`). A `null` given to a
    /// field of `T` is refused unless `T` lists it (`NullableFields`), and so is text with a NUL
    /// (`BodyProbe`); under a key `T` does not read, either is ignored, like the key. An empty
    /// body is `whenEmpty` for operations whose body is optional, and refused otherwise.
    func decode<T: Decodable>(_ type: T.Type, maxBytes: Int = 256 << 10, whenEmpty: T? = nil) async throws -> T {
        let body = try await readBody(upTo: maxBytes)
        if body.readableBytes == 0, let whenEmpty { return whenEmpty }
        let data = Data(buffer: body)
        if let refusal = BodyProbe.refusal(in: data, for: T.self) {
            throw APIError.badRequest("invalid_json", "the body is not the JSON this endpoint takes: \(refusal.message)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw APIError.badRequest("invalid_json", "the body is not the JSON this endpoint takes: \(Self.describe(error))")
        }
    }

    /// The whole body, or a 413 naming `maxBytes`. Every route that reads a body reads it here.
    func readBody(upTo maxBytes: Int) async throws -> ByteBuffer {
        do {
            return try await self.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(maxBytes: maxBytes)
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "\"\(key.stringValue)\" is required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath.isEmpty ? context.debugDescription : "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
        default: error.localizedDescription
        }
    }
}

/// A value of an enum named in a request, or a 400 listing the allowed values.
func parseEnum<E: RawRepresentable & CaseIterable>(_ raw: String, as _: E.Type, field: String) throws -> E where E.RawValue == String {
    guard let value = E(rawValue: raw) else {
        throw APIError.badRequest("invalid_\(field)", "\(field) must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return value
}
