import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Random (version 4) UUIDs, as `UUID().uuidString` writes them, for the `idempotency_key` the
/// ingest writer gives every customer message in its serial section (replies use theirs as the
/// platform's retry key). `UUID()` asks the system generator for each one (on Linux it opened and
/// read /dev/urandom; `SystemRandomNumberGenerator`, a `getrandom` call per 8 bytes) and formats
/// with `sprintf`: 3% of the writer's CPU. These take 16 bytes at a time from 4 KiB of the system
/// generator's bytes (`arc4random_buf`: one `getrandom` on Linux), refilled every 256 keys, and
/// write the digits directly.
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

    /// The system generator's bytes, handed out 16 at a time and refilled when used up.
    private struct RandomBlock: ~Copyable {
        private var bytes = [UInt8](repeating: 0, count: 4096)
        private var used = 4096

        mutating func next() -> Bytes {
            if used == bytes.count {
                bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                used = 0
            }
            defer { used += 16 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: used, as: Bytes.self) }
        }
    }
}
