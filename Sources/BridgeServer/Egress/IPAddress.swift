import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address. Parsed only from the standard text forms
/// (`inet_pton`): `127.1` or `2130706433` are not addresses here but names, which the resolver turns
/// into addresses that are then checked like any other.
struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    var isIPv4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
    /// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`. A gateway forwards these to
    /// the IPv4 address, so they are judged as that address.
    var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let zeros10 = bytes[0..<10].allSatisfy { $0 == 0 }
        if zeros10, bytes[10] == 0xff, bytes[11] == 0xff { return IPAddress(bytes: Array(bytes[12..<16])) }
        if zeros10, bytes[10] == 0, bytes[11] == 0, bytes[12..<15].contains(where: { $0 != 0 }) { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    /// The address in the family it is compared in: an IPv4-mapped IPv6 address as IPv4.
    var normalized: IPAddress {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return IPAddress(bytes: Array(bytes[12..<16])) ?? self
        }
        return self
    }

    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(isIPv4 ? AF_INET : AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return bytes.map { String($0) }.joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the first `length` bits equal those of `other` (same family).
    func hasPrefix(_ other: IPAddress, length: Int) -> Bool {
        guard bytes.count == other.bytes.count, length >= 0, length <= bytes.count * 8 else { return false }
        let whole = length / 8
        guard bytes[0..<whole] == other.bytes[0..<whole] else { return false }
        let rest = length % 8
        guard rest > 0 else { return true }
        let mask = UInt8(truncatingIfNeeded: 0xff << (8 - rest))
        return bytes[whole] & mask == other.bytes[whole] & mask
    }
}

/// An address block, `10.0.0.0/8` or `fc00::/7`; a single address is a block of one.
struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    let address: IPAddress
    let prefixLength: Int

    init(_ address: IPAddress, prefixLength: Int? = nil) {
        let normalized = address.normalized
        let full = normalized.bytes.count * 8
        // A mapped IPv6 prefix (::ffff:10.0.0.0/104) counts in IPv4 bits once normalized.
        let shift = address.bytes.count == 16 && normalized.isIPv4 ? 96 : 0
        self.address = normalized
        self.prefixLength = min(max((prefixLength ?? full + shift) - shift, 0), full)
    }

    /// `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `ipv6/n`.
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        if parts.count == 2 {
            guard let length = Int(parts[1]), length >= 0, length <= address.bytes.count * 8 else { return nil }
            self.init(address, prefixLength: length)
        } else {
            self.init(address)
        }
    }

    func contains(_ other: IPAddress) -> Bool { other.normalized.hasPrefix(address, length: prefixLength) }

    var description: String { prefixLength == address.bytes.count * 8 ? "\(address)" : "\(address)/\(prefixLength)" }
}

/// Where an address leads, as far as the egress policy cares: anything but `global` is inside the
/// bridge's own network (or the cloud host's) and refused unless `egress.allow` lists it.
enum AddressScope: String, Sendable {
    case global = "public"
    case loopback
    case privateNetwork = "private"
    case linkLocal = "link-local"
    case unspecified
    case sharedAddressSpace = "carrier-grade NAT"
    /// Cloud instance metadata services (credentials live there).
    case metadata
    case multicast
    case reserved

    /// The scope of `address`; an IPv6 form of an IPv4 address is judged as the IPv4 address.
    init(_ address: IPAddress) {
        if let scope = Self.table.first(where: { $0.network.contains(address) })?.scope {
            self = scope
        } else if !address.isIPv4, let v4 = address.embeddedIPv4 {
            self = AddressScope(v4)
        } else {
            self = .global
        }
    }

    /// First match wins: the metadata addresses come before the blocks that hold them.
    private static let table: [(network: IPNetwork, scope: AddressScope)] = [
        ("169.254.169.254", .metadata),  // AWS, GCP, Azure, DigitalOcean, OpenStack
        ("fd00:ec2::254", .metadata),  // AWS over IPv6
        ("100.100.100.200", .metadata),  // Alibaba Cloud
        ("192.0.0.192", .metadata),  // Oracle Cloud
        ("0.0.0.0/8", .unspecified),
        ("127.0.0.0/8", .loopback),
        ("10.0.0.0/8", .privateNetwork),
        ("172.16.0.0/12", .privateNetwork),
        ("192.168.0.0/16", .privateNetwork),
        ("169.254.0.0/16", .linkLocal),
        ("100.64.0.0/10", .sharedAddressSpace),
        ("192.0.0.0/24", .reserved),
        ("198.18.0.0/15", .reserved),
        ("224.0.0.0/4", .multicast),
        ("240.0.0.0/4", .reserved),
        ("::/128", .unspecified),
        ("::1/128", .loopback),
        ("64:ff9b:1::/48", .privateNetwork),
        ("fc00::/7", .privateNetwork),
        ("fec0::/10", .privateNetwork),
        ("fe80::/10", .linkLocal),
        ("100::/64", .reserved),
        ("ff00::/8", .multicast),
    ].compactMap { text, scope in IPNetwork(text).map { ($0, scope) } }
}
