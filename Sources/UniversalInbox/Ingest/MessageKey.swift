import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Random (version 4) UUIDs, as `UUID().uuidString` writes them, for the `idempotency_key` the
/// ingest writers give every customer message (replies use theirs as the platform's retry key); on
/// SQLite in the writer's serial section. The SQLite writer drew each key from
/// `SystemRandomNumberGenerator` (a `getrandom` call per 8 bytes) and formatted it through `UUID`
/// (`sprintf`): 3% of its CPU; PostgreSQL's used `UUID()`. These take 16 bytes at a time from 256 of
/// the system's random bytes (`getentropy`, at most 256 a call: one call every 16 keys) and write
/// the digits directly.
package enum MessageKey {
    private static let source = Mutex(RandomBlock())

    package static func random() -> String {
        var bytes = source.withLock { $0.next() }
        bytes.6 = bytes.6 & 0x0F | 0x40
        bytes.8 = bytes.8 & 0x3F | 0x80
        return withUnsafeBytes(of: bytes) { uuid in
            String(unsafeUninitializedCapacity: 36) { text in
                let digits: StaticString = "0123456789ABCDEF"
                var at = 0
                for (index, byte) in uuid.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    text[at] = digits.utf8Start[Int(byte >> 4)]
                    text[at + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    at += 2
                }
                return at
            }
        }
    }

    typealias Bytes = (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    /// The system's random bytes, handed out 16 at a time and refilled when used up.
    private struct RandomBlock: ~Copyable {
        private var bytes = [UInt8](repeating: 0, count: 256)
        private var used = 256

        mutating func next() -> Bytes {
            if used == bytes.count {
                bytes.withUnsafeMutableBytes { block in
                    guard getentropy(block.baseAddress!, block.count) != 0 else { return }
                    // No getentropy (a kernel before 3.17): the standard library's generator.
                    var generator = SystemRandomNumberGenerator()
                    for word in stride(from: 0, to: block.count, by: 8) {
                        block.storeBytes(of: generator.next() as UInt64, toByteOffset: word, as: UInt64.self)
                    }
                }
                used = 0
            }
            defer { used += 16 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: used, as: Bytes.self) }
        }
    }
}
