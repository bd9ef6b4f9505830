import Foundation

/// Decodes platforms' JSON (webhook bodies, API answers) into `Decodable` types, as
/// `JSONDecoder` with its default strategies does, at a fraction of its cost: `JSONDecoder` was a
/// tenth of the bridge's CPU per LINE webhook, mostly building a dictionary and strings for every
/// object it entered. Here a document is scanned once (`JSONTape`) and a keyed container finds
/// its fields by comparing bytes. Errors are `DecodingError`s with the coding path, like
/// `JSONDecoder`'s; a body that is not JSON is `dataCorrupted` with an empty path. UTF-8 only
/// (RFC 8259 §8.1): a UTF-16 or UTF-32 body is refused.
public enum WebhookJSONDecoder {
    /// How deep arrays and objects may nest (JSONDecoder's limit too).
    public static let maxDepth = JSONTape.maxDepth

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let tape: JSONTape
        do {
            tape = try JSONTape([UInt8](data))
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON (\(error)).", underlyingError: error))
        }
        return try TapeDecoder(tape: tape, node: 0, path: nil).decodeValue(T.self)
    }
}

/// The coding path as a list from the innermost key outwards, shared by nested decoders (a path is
/// only made into an array when asked for, mostly for an error).
private final class CodingPath {
    let parent: CodingPath?
    let key: any CodingKey

    init(_ parent: CodingPath?, _ key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    static func keys(_ path: CodingPath?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var at = path
        while let node = at {
            keys.append(node.key)
            at = node.parent
        }
        return keys.reversed()
    }
}

/// An array element's key, as `JSONDecoder` names it.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}

/// The decoder of one value (`node` in the tape; -1 is an absent `super` value, read as null). Small
/// enough (three words) to be passed as `any Decoder` without a box.
private struct TapeDecoder: Decoder, SingleValueDecodingContainer {
    let tape: JSONTape
    let node: Int
    let path: CodingPath?

    var codingPath: [any CodingKey] { CodingPath.keys(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var kind: JSONTape.Node.Kind { node < 0 ? .null : tape.nodes[node].kind }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard kind == .object else { throw mismatch([String: Any].self, nullIsMissing: true) }
        return KeyedDecodingContainer(KeyedContainer<Key>(tape: tape, node: node, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard kind == .array else { throw mismatch([Any].self, nullIsMissing: true) }
        return UnkeyedContainer(tape: tape, node: node, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Single values

    func decodeNil() -> Bool { kind == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch kind {
        case .true: true
        case .false: false
        default: throw mismatch(Bool.self)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        guard kind == .string else { throw mismatch(String.self) }
        return tape.string(node)
    }

    func decode(_ type: Double.Type) throws -> Double { try floatingPoint(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }

    /// `T` from this value: the types `JSONDecoder` reads in its own way by default (URL and Data
    /// from strings, Decimal from a number) here too; everything else by its own `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self { return try decode(String.self) as! T }
        if T.self == URL.self {
            guard let url = URL(string: try decode(String.self)) else { throw corrupted("Invalid URL string.") }
            return url as! T
        }
        if T.self == Data.self {
            guard let data = Data(base64Encoded: try decode(String.self)) else { throw corrupted("Encountered Data is not valid Base64.") }
            return data as! T
        }
        if T.self == Decimal.self {
            guard kind == .number, let decimal = Decimal(string: tape.numberText(node), locale: Locale(identifier: "en_US_POSIX")) else {
                throw mismatch(Decimal.self)
            }
            return decimal as! T
        }
        return try T(from: self)
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard kind == .number else { throw mismatch(T.self) }
        if !tape.nodes[node].flag, let value = tape.integer(node, as: T.self) { return value }
        // A fraction or exponent (1.0, 1e3) is read when the number is whole and fits, as JSONDecoder does.
        guard let double = Double(tape.numberText(node)), let value = T(exactly: double) else {
            throw corrupted("Parsed JSON number <\(tape.numberText(node))> does not fit in \(T.self).")
        }
        return value
    }

    private func floatingPoint<T: BinaryFloatingPoint>(_ type: T.Type) throws -> T {
        guard kind == .number else { throw mismatch(T.self) }
        guard let double = Double(tape.numberText(node)), double.isFinite, abs(double) <= Double(T.greatestFiniteMagnitude) else {
            throw corrupted("Parsed JSON number <\(tape.numberText(node))> does not fit in \(T.self).")
        }
        return T(double)
    }

    // MARK: Errors, as JSONDecoder words them

    func mismatch(_ expected: Any.Type, nullIsMissing: Bool = false) -> DecodingError {
        let found: String
        switch kind {
        case .null:
            return .valueNotFound(expected, .init(codingPath: codingPath, debugDescription: "Expected \(expected) value but found null instead."))
        case .true, .false: found = "bool"
        case .number: found = "number"
        case .string: found = "string"
        case .array: found = "array"
        case .object: found = "dictionary"
        }
        return .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: "Expected to decode \(expected) but found \(found) instead."))
    }

    func corrupted(_ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: description))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let tape: JSONTape
    let node: Int
    let path: CodingPath?

    var codingPath: [any CodingKey] { CodingPath.keys(path) }

    /// The value node of each member, with its key node before it.
    private var members: some Sequence<Int> {
        sequence(state: (index: node + 1, left: tape.nodes[node].count)) { state -> Int? in
            guard state.left > 0 else { return nil }
            let value = state.index + 1
            state.index = tape.nodes[value].next
            state.left -= 1
            return value
        }
    }

    var allKeys: [Key] {
        var seen = Set<String>()
        return members.compactMap { value in
            let name = tape.string(value - 1)
            return seen.insert(name).inserted ? Key(stringValue: name) : nil
        }
    }

    /// The value of `key`; the first one when a key repeats (as JSONDecoder reads it).
    private func find(_ key: Key) -> Int? {
        let name = key.stringValue
        return members.first { tape.string($0 - 1, equals: name) }
    }

    private func decoder(_ key: Key) throws -> TapeDecoder {
        guard let value = find(key) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return TapeDecoder(tape: tape, node: value, path: CodingPath(path, key))
    }

    /// The value of `key` when present and not null.
    private func present(_ key: Key) -> TapeDecoder? {
        guard let value = find(key), tape.nodes[value].kind != .null else { return nil }
        return TapeDecoder(tape: tape, node: value, path: CodingPath(path, key))
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { try decoder(key).decodeNil() }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(key).decodeValue(type) }

    // One lookup for an optional field (the protocol's default looks the key up three times).
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(key)?.decode(type) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(key)?.decodeValue(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let value = members.first { tape.string($0 - 1, equals: "super") } ?? -1
        return TapeDecoder(tape: tape, node: value, path: CodingPath(path, SuperKey()))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TapeDecoder(tape: tape, node: find(key) ?? -1, path: CodingPath(path, key))
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let tape: JSONTape
    let path: CodingPath?
    let count: Int?
    private(set) var currentIndex = 0
    /// The next element's node.
    private var cursor: Int

    init(tape: JSONTape, node: Int, path: CodingPath?) {
        self.tape = tape
        self.path = path
        count = tape.nodes[node].count
        cursor = node + 1
    }

    var codingPath: [any CodingKey] { CodingPath.keys(path) }
    var isAtEnd: Bool { currentIndex >= count! }

    /// The next element's decoder, or the error `JSONDecoder` gives past the end.
    private func next(_ type: Any.Type) throws -> TapeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        return TapeDecoder(tape: tape, node: cursor, path: CodingPath(path, IndexKey(currentIndex)))
    }

    /// Decodes the next element with `read`, moving on only when it succeeds (as JSONDecoder does).
    private mutating func read<T>(_ type: T.Type, _ read: (TapeDecoder) throws -> T) throws -> T {
        let element = try next(type)
        let value = try read(element)
        cursor = tape.nodes[cursor].next
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard try next(Never.self).decodeNil() else { return false }
        cursor = tape.nodes[cursor].next
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: String.Type) throws -> String { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) { try $0.decode(type) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try read(type) { try $0.decodeValue(type) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try read(KeyedDecodingContainer<NestedKey>.self) { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try read((any UnkeyedDecodingContainer).self) { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try read((any Decoder).self) { $0 }
    }
}
