import Foundation

/// An id a platform sends as a JSON string in one payload and as a number in another (Meta's
/// `sticker_id`, some `id`s); read as its text either way.
public struct FlexibleID: Decodable, Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.text = text
        } else if let number = try? container.decode(Int64.self) {
            self.text = String(number)
        } else if let number = try? container.decode(UInt64.self) {
            self.text = String(number)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an id (a string or a whole number)"))
        }
    }

    public var description: String { text }
}
