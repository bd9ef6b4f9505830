import Foundation
import GRDB

/// A status or kind column holding a value no case of its enum has (a newer binary wrote it, or the
/// row is damaged). Reading it is an error naming the column, the type and the value, never a silent
/// default that would show a ticket as open or an agent as offline when it is neither.
public struct UnknownStoredValue: Error, Equatable, CustomStringConvertible {
    public let column: String
    public let type: String
    public let value: String?

    public init(column: String, type: String, value: String?) {
        self.column = column
        self.type = type
        self.value = value
    }

    public var description: String { "column \(column) holds \(value.map { "\"\($0)\"" } ?? "NULL"), which is no \(type) this version knows" }

    /// `raw` as `Value`, or this error.
    public static func decode<Value: RawRepresentable>(_ raw: String?, as type: Value.Type, column: String) throws -> Value where Value.RawValue == String {
        guard let raw, let value = Value(rawValue: raw) else { throw UnknownStoredValue(column: column, type: "\(Value.self)", value: raw) }
        return value
    }
}

extension Row {
    /// The enum a NOT NULL status or kind column holds (`UnknownStoredValue` otherwise).
    func decode<Value: RawRepresentable>(_ column: String, as type: Value.Type) throws -> Value where Value.RawValue == String {
        try UnknownStoredValue.decode(self[column] as String?, as: type, column: column)
    }

    /// The same for a column that may be NULL: nil stays nil, an unknown value is still an error.
    func decodeIfPresent<Value: RawRepresentable>(_ column: String, as type: Value.Type) throws -> Value? where Value.RawValue == String {
        guard let raw = self[column] as String? else { return nil }
        return try UnknownStoredValue.decode(raw, as: type, column: column)
    }
}
