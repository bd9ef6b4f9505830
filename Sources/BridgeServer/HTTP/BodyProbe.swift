import Foundation

/// Finds a value a request body gives one of its type's fields that the type would take wrongly:
/// `null` where the document has none (`JSONDecoder` reads it as "left out"; the type lists the
/// fields that take it in `NullableFields`), and text holding a NUL character (SQLite hands text
/// back as a C string, cut at the NUL). Each such value is swapped for one no field type takes
/// (arrays nested deeper than any field's) and the body decoded again: an error at that path means
/// the type reads it. One under a key the type does not read decodes fine, as extra keys do.
enum BodyProbe {
    enum Refusal: Equatable {
        case null(path: String)
        case nul(path: String)

        var message: String {
            switch self {
            case .null(let path): "\"\(path)\" must not be null"
            case .nul(let path): "\"\(path)\" must not contain a NUL character"
            }
        }
    }

    /// Nested deeper than any array field of a request type, so no field decodes it.
    private static var unreadable: Any { (0..<8).reduce([Any]()) { inner, _ in [inner] } }

    /// The first value of `data` that `T` would read and must not, or nil.
    static func refusal<T: Decodable>(in data: Data, for type: T.Type) -> Refusal? {
        guard let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        let allowed = (T.self as? any NullableFields.Type)?.nullableFields ?? []
        var swapped: [(path: [String], refusal: Refusal)] = []
        let probe = swapping(json, at: [], allowed: allowed, swapped: &swapped)
        guard !swapped.isEmpty, let probeData = try? JSONSerialization.data(withJSONObject: probe, options: [.fragmentsAllowed]) else { return nil }
        do {
            _ = try JSONDecoder().decode(T.self, from: probeData)
            return nil
        } catch let error as DecodingError {
            let failed = path(of: error)
            return swapped.first { failed.starts(with: $0.path) }?.refusal
        } catch {
            return nil
        }
    }

    private static func swapping(_ json: Any, at path: [String], allowed: Set<String>, swapped: inout [(path: [String], refusal: Refusal)]) -> Any {
        let dotted = path.isEmpty ? "the body" : path.joined(separator: ".")
        switch json {
        case is NSNull:
            let anyKey = (path.dropLast() + ["*"]).joined(separator: ".")
            if allowed.contains(path.joined(separator: ".")) || allowed.contains(anyKey) { return json }
            swapped.append((path, .null(path: dotted)))
            return unreadable
        case let text as String where text.unicodeScalars.contains("\0"):
            swapped.append((path, .nul(path: dotted)))
            return unreadable
        case let object as [String: Any]:
            return object.reduce(into: [String: Any]()) { result, entry in
                result[entry.key] = swapping(entry.value, at: path + [entry.key], allowed: allowed, swapped: &swapped)
            }
        case let array as [Any]:
            return array.enumerated().map { swapping($0.element, at: path + [String($0.offset)], allowed: allowed, swapped: &swapped) }
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
