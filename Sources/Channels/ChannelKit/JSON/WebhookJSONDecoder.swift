import Foundation

/// Decodes platforms' JSON (webhook bodies, API answers) into `Decodable` types, as
/// `JSONDecoder` with its default strategies does, at half its cost: `JSONDecoder` was a tenth of
/// the bridge's CPU per LINE webhook, mostly building a dictionary and strings for every object it
/// entered. Here a document is scanned once (`JSONTape`) and a keyed container finds its fields by
/// comparing bytes (a large object is indexed once, so no object costs a scan per key). Errors are
/// `DecodingError`s of the cases and coding paths `JSONDecoder` gives; a body that is not JSON is
/// `dataCorrupted` with an empty path. Where this one differs, on purpose:
/// - a number read as an integer must be whole and fit, read exactly (JSONDecoder also takes some
///   that are not whole, such as `1234567890123456789e-1`, and refuses `0e5`); a number that does
///   not fit its field is an error at that field, where JSONDecoder's has no path;
/// - UTF-8 only (RFC 8259 §8.1): a UTF-16 or UTF-32 body is refused;
/// - a string that is not well-formed is refused with the document, not only when a field reads it.
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

/// Any member's key (reading an object as `JSONValue`).
private struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
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
        guard kind == .object else { throw containerMismatch([String: Any].self, "keyed") }
        return KeyedDecodingContainer(KeyedContainer<Key>(tape: tape, node: node, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard kind == .array else { throw containerMismatch([Any].self, "unkeyed") }
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
    /// from strings, Decimal from a number) here too, and `JSONValue` straight from the tape;
    /// everything else by its own `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self { return try decode(String.self) as! T }
        if T.self == JSONValue.self { return try jsonValue() as! T }
        if T.self == URL.self {
            guard kind == .string else { throw mismatch(URL.self) }
            guard let url = URL(string: tape.string(node)) else { throw corrupted("Invalid URL string.") }
            return url as! T
        }
        if T.self == Data.self {
            guard kind == .string else { throw mismatch(Data.self) }
            guard let data = Data(base64Encoded: tape.string(node)) else { throw corrupted("Encountered Data is not valid Base64.") }
            return data as! T
        }
        if T.self == Decimal.self {
            guard kind == .number else { throw mismatch(Decimal.self) }
            guard let decimal = Decimal(string: tape.numberText(node), locale: Locale(identifier: "en_US_POSIX")) else {
                throw corrupted("Parsed JSON number <\(tape.numberText(node))> does not fit in Decimal.")
            }
            return decimal as! T
        }
        return try T(from: self)
    }

    /// This value as `JSONValue`, read as `JSONValue.init(from:)` reads it (a number is an integer
    /// when it is a whole Int64, else a Double; one that fits neither is an error), without its
    /// chain of attempts, which costs a coding path per attempt at every level.
    func jsonValue() throws -> JSONValue {
        switch kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .string: return .string(tape.string(node))
        case .number:
            if let integer = tape.integer(node, as: Int64.self) { return .integer(integer) }
            if let number = tape.floatingPoint(node, as: Double.self) { return .number(number) }
            throw mismatch([String: Any].self)
        case .array:
            var elements: [JSONValue] = []
            var container = UnkeyedContainer(tape: tape, node: node, path: path)
            elements.reserveCapacity(tape.nodes[node].count)
            while !container.isAtEnd { elements.append(try container.decode(JSONValue.self)) }
            return .array(elements)
        case .object:
            let container = KeyedContainer<AnyKey>(tape: tape, node: node, path: path)
            var members: [String: JSONValue] = [:]
            for key in container.allKeys { members[key.stringValue] = try container.decode(JSONValue.self, forKey: key) }
            return .object(members)
        }
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard kind == .number else { throw mismatch(T.self) }
        guard let value = tape.integer(node, as: T.self) else {
            throw corrupted("Parsed JSON number <\(tape.numberText(node))> is not a whole number that fits in \(T.self).")
        }
        return value
    }

    private func floatingPoint<T: LosslessStringConvertible & BinaryFloatingPoint>(_ type: T.Type) throws -> T {
        guard kind == .number else { throw mismatch(T.self) }
        guard let value = tape.floatingPoint(node, as: T.self) else {
            throw corrupted("Parsed JSON number <\(tape.numberText(node))> does not fit in \(T.self).")
        }
        return value
    }

    // MARK: Errors: the cases JSONDecoder gives (its words are not kept)

    /// `expected` from a value of another kind; null is "not found", except for Bool, where
    /// JSONDecoder calls it a mismatch.
    func mismatch(_ expected: Any.Type) -> DecodingError {
        let found: String
        switch kind {
        case .null:
            guard expected != Bool.self else { found = "null"; break }
            return .valueNotFound(expected, .init(codingPath: codingPath, debugDescription: "Cannot get value of type \(expected) -- found null value instead"))
        case .true, .false: found = "bool"
        case .number: found = "number"
        case .string: found = "a string"
        case .array: found = "an array"
        case .object: found = "a dictionary"
        }
        return .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: "Expected to decode \(expected) but found \(found) instead."))
    }

    func containerMismatch(_ expected: Any.Type, _ container: String) -> DecodingError {
        guard kind == .null else { return mismatch(expected) }
        return .valueNotFound(expected, .init(codingPath: codingPath, debugDescription: "Cannot get \(container) decoding container -- found null value instead"))
    }

    func corrupted(_ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: description))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let tape: JSONTape
    let node: Int
    let path: CodingPath?
    /// The first value node of each key, for an object too large to scan for every key.
    private let index: [String: Int]?

    /// Objects with more members than this are indexed once; smaller ones are scanned per key.
    static var scanned: Int { 16 }

    init(tape: JSONTape, node: Int, path: CodingPath?) {
        self.tape = tape
        self.node = node
        self.path = path
        guard tape.nodes[node].count > Self.scanned else {
            index = nil
            return
        }
        var index: [String: Int] = [:]
        for value in Self.members(of: node, in: tape) {
            let name = tape.string(value - 1)
            if index[name] == nil { index[name] = value }
        }
        self.index = index
    }

    var codingPath: [any CodingKey] { CodingPath.keys(path) }

    /// The value node of each member of object `node`, with its key node before it.
    private static func members(of node: Int, in tape: JSONTape) -> [Int] {
        var values: [Int] = []
        var at = node + 1
        for _ in 0..<tape.nodes[node].count {
            values.append(at + 1)
            at = tape.nodes[at + 1].next
        }
        return values
    }

    var allKeys: [Key] {
        var seen = Set<String>()
        return Self.members(of: node, in: tape).compactMap { value in
            let name = tape.string(value - 1)
            return seen.insert(name).inserted ? Key(stringValue: name) : nil
        }
    }

    /// The value of `key`; the first one when a key repeats (as JSONDecoder reads it).
    private func find(_ key: Key) -> Int? {
        find(key.stringValue)
    }

    private func find(_ name: String) -> Int? {
        if let index { return index[name] }
        let ascii = name.utf8.allSatisfy { $0 < 0x80 }
        var at = node + 1
        for _ in 0..<tape.nodes[node].count {
            if tape.string(at, equals: name, nameIsASCII: ascii) { return at + 1 }
            at = tape.nodes[at + 1].next
        }
        return nil
    }

    private func decoder(_ key: Key) throws -> TapeDecoder {
        TapeDecoder(tape: tape, node: try value(key), path: CodingPath(path, key))
    }

    private func value(_ key: Key) throws -> Int {
        guard let value = find(key) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return value
    }

    /// A single value of `key` read with `read`, without making its coding path unless it fails.
    private func scalar<T>(_ key: Key, _ read: (TapeDecoder) throws -> T) throws -> T {
        try scalar(key, at: try value(key), read)
    }

    /// The value of `key` read with `read` when present and not null.
    private func scalarIfPresent<T>(_ key: Key, _ read: (TapeDecoder) throws -> T) throws -> T? {
        guard let value = find(key), tape.nodes[value].kind != .null else { return nil }
        return try scalar(key, at: value, read)
    }

    private func scalar<T>(_ key: Key, at value: Int, _ read: (TapeDecoder) throws -> T) throws -> T {
        do {
            return try read(TapeDecoder(tape: tape, node: value, path: nil))
        } catch let error as DecodingError {
            throw error.under(codingPath + [key])
        }
    }

    /// The value of `key` when present and not null.
    private func present(_ key: Key) -> TapeDecoder? {
        guard let value = find(key), tape.nodes[value].kind != .null else { return nil }
        return TapeDecoder(tape: tape, node: value, path: CodingPath(path, key))
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { try decoder(key).decodeNil() }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(key) { try $0.decode(type) } }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(key) { try $0.decode(type) } }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(key).decodeValue(type) }

    // One lookup for an optional field (the protocol's default looks the key up three times).
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try scalarIfPresent(key) { try $0.decode(type) } }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(key)?.decodeValue(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let value = find("super") ?? -1
        return TapeDecoder(tape: tape, node: value, path: CodingPath(path, SuperKey()))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TapeDecoder(tape: tape, node: find(key) ?? -1, path: CodingPath(path, key))
    }
}

private extension DecodingError {
    /// The error with `path` in front of its coding path (a single value is read without its path,
    /// which is only made when it fails).
    func under(_ path: [any CodingKey]) -> DecodingError {
        func moved(_ context: Context) -> Context {
            Context(codingPath: path + context.codingPath, debugDescription: context.debugDescription, underlyingError: context.underlyingError)
        }
        switch self {
        case .typeMismatch(let type, let context): return .typeMismatch(type, moved(context))
        case .valueNotFound(let type, let context): return .valueNotFound(type, moved(context))
        case .keyNotFound(let key, let context): return .keyNotFound(key, moved(context))
        case .dataCorrupted(let context): return .dataCorrupted(moved(context))
        @unknown default: return self
        }
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let tape: JSONTape
    let path: CodingPath?
    let elements: Int
    private(set) var currentIndex = 0
    /// The next element's node.
    private var cursor: Int

    init(tape: JSONTape, node: Int, path: CodingPath?) {
        self.tape = tape
        self.path = path
        elements = tape.nodes[node].count
        cursor = node + 1
    }

    var codingPath: [any CodingKey] { CodingPath.keys(path) }
    var count: Int? { elements }
    var isAtEnd: Bool { currentIndex >= elements }

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
