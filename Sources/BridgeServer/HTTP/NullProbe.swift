import Foundation

/// Finds a `null` that a body gives one of its type's fields. `JSONDecoder` reads `null` in an
/// optional field as "left out", so it cannot tell; instead each `null` (but those the type lists
/// in `NullableFields`) is swapped for a value no field type takes (arrays nested deeper than any
/// field's), and the body decoded again: an error at that path means the type reads it. A `null`
/// under a key the type does not read decodes fine, as extra keys do.
enum NullProbe {
    /// Nested deeper than any array field of a request type, so no field decodes it.
    private static var unreadable: Any { (0..<8).reduce([Any]()) { inner, _ in [inner] } }

    /// The dotted path of the first refused `null`, or nil.
    static func refusedNull<T: Decodable>(in data: Data, for type: T.Type) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        let allowed = (T.self as? any NullableFields.Type)?.nullableFields ?? []
        var swapped: [[String]] = []
        let probe = replacingNulls(in: json, at: [], allowed: allowed, swapped: &swapped)
        guard !swapped.isEmpty, let probeData = try? JSONSerialization.data(withJSONObject: probe, options: [.fragmentsAllowed]) else { return nil }
        do {
            _ = try JSONDecoder().decode(T.self, from: probeData)
            return nil
        } catch let error as DecodingError {
            let failed = path(of: error)
            return swapped.first { failed.starts(with: $0) }.map { $0.isEmpty ? "the body" : $0.joined(separator: ".") }
        } catch {
            return nil
        }
    }

    private static func replacingNulls(in json: Any, at path: [String], allowed: Set<String>, swapped: inout [[String]]) -> Any {
        switch json {
        case is NSNull:
            let dotted = path.joined(separator: ".")
            let anyKey = (path.dropLast() + ["*"]).joined(separator: ".")
            if allowed.contains(dotted) || allowed.contains(anyKey) { return json }
            swapped.append(path)
            return unreadable
        case let object as [String: Any]:
            return object.reduce(into: [String: Any]()) { result, entry in
                result[entry.key] = replacingNulls(in: entry.value, at: path + [entry.key], allowed: allowed, swapped: &swapped)
            }
        case let array as [Any]:
            return array.enumerated().map { replacingNulls(in: $0.element, at: path + [String($0.offset)], allowed: allowed, swapped: &swapped) }
        default:
            return json
        }
    }

    private static func path(of error: DecodingError) -> [String] {
        let codingPath: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            codingPath = context.codingPath
        @unknown default:
            return []
        }
        return codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
    }
}
