import Foundation

/// Where the bridge may send HTTP requests, and how long one may take. Every outbound request
/// (platform APIs, customers' media URLs, agents' image URLs, push endpoints, outgoing webhooks)
/// goes through `HTTPClientTransport`, which asks this policy about every hop.
///
/// The rule: only `http` and `https`; a destination whose host resolves to any loopback, private,
/// link-local, unspecified, carrier-grade NAT, multicast, reserved or cloud-metadata address (or an
/// IPv6 form of one) is refused, unless `egress.allow` lists the host name, the address or its
/// block. A host name that passes is connected to at the address that was checked (see
/// `EgressClients`), so a DNS answer that changes between check and connect cannot lead inside.
struct EgressPolicy: Sendable {
    /// Resolves a host name to its addresses (`getaddrinfo`, or a fixed table in tests).
    typealias Resolver = @Sendable (_ host: String) async throws -> [IPAddress]

    /// Exceptions to the address rule: the operator's own services, the tests' loopback stand-ins.
    var allow: [EgressAllowEntry] = []
    /// The whole request, every redirect hop and the whole body included.
    var timeout: Duration = .seconds(30)
    /// No byte from the remote for this long (waiting for the answer or within the body) aborts.
    var readIdleTimeout: Duration = .seconds(10)
    var resolve: Resolver = SystemResolver.addresses(of:)

    /// Redirects followed (GET and HEAD only), each hop checked again.
    static let maxRedirects = 5

    /// Where `url` may be fetched from, or why not. Resolves a host name unless it is allow-listed.
    func destination(for url: String) async throws(EgressRefusal) -> EgressDestination {
        // The same parse async-http-client makes, so the host checked is the host connected to.
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased() else { throw EgressRefusal(host: "", port: nil, reason: .notHTTP) }
        guard scheme == "http" || scheme == "https" else { throw EgressRefusal(host: parsed.host ?? "", port: nil, reason: .notHTTP) }
        guard var host = parsed.host, !host.isEmpty else { throw EgressRefusal(host: "", port: nil, reason: .noHost) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = parsed.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw EgressRefusal(host: host, port: port, reason: .noHost) }
        let destination = EgressDestination(scheme: scheme, host: host, port: port, pinned: nil)

        if allowsName(host, port: port) { return destination }
        if let literal = IPAddress(host) {
            try check(literal, host: host, port: port)
            return destination
        }
        let addresses: [IPAddress]
        do {
            addresses = try await resolve(host)
        } catch {
            throw EgressRefusal(host: host, port: port, reason: .unresolvable)
        }
        guard let first = addresses.first else { throw EgressRefusal(host: host, port: port, reason: .unresolvable) }
        for address in addresses { try check(address, host: host, port: port) }
        return EgressDestination(scheme: scheme, host: host, port: port, pinned: first)
    }

    /// Whether `egress.allow` lists this host name (any address it resolves to is then accepted).
    func allowsName(_ host: String, port: Int) -> Bool {
        allow.contains { $0.matches(name: host.lowercased(), port: port) }
    }

    /// Whether `egress.allow` lists this address (or a block holding it).
    func allowsAddress(_ address: IPAddress, port: Int) -> Bool {
        allow.contains { $0.matches(address: address, port: port) }
    }

    private func check(_ address: IPAddress, host: String, port: Int) throws(EgressRefusal) {
        let scope = AddressScope(address)
        guard scope == .global || allowsAddress(address, port: port) else {
            throw EgressRefusal(host: host, port: port, reason: .internalAddress(address, scope))
        }
    }
}

/// A destination the policy accepted.
struct EgressDestination: Sendable, Equatable {
    var scheme: String
    /// As written in the URL (brackets of an IPv6 literal removed).
    var host: String
    var port: Int
    /// The checked address to connect to when `host` is a resolved name; nil for an address
    /// literal or an allow-listed name, which are connected to as they are.
    var pinned: IPAddress?

    /// Scheme, host and port: credentials are not carried to another origin on a redirect.
    var origin: String { "\(scheme)://\(host):\(port)" }
}

/// Why the policy refused a destination. Its description is for the log and for an admin's
/// `400` (outgoing webhooks); agents are told only that the file could not be fetched.
struct EgressRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    enum Reason: Sendable, Equatable {
        case notHTTP
        case noHost
        case unresolvable
        case internalAddress(IPAddress, AddressScope)
    }

    var host: String
    var port: Int?
    var reason: Reason

    var description: String {
        switch reason {
        case .notHTTP: "the URL must be http or https"
        case .noHost: "the URL has no valid host and port"
        case .unresolvable: "\(host) does not resolve to an address"
        case .internalAddress(let address, let scope):
            "\(host) is \(address == IPAddress(host) ? "a" : "at \(address), a") \(scope.rawValue) address; requests there are refused unless egress.allow lists it"
        }
    }
}

/// One `egress.allow` entry: a host name (`media.corp.example`, `*.corp.example`), an address
/// (`10.1.2.3`, `::1`) or a block (`10.0.0.0/8`, `fd00::/8`); a name or an address may name a port
/// (`127.0.0.1:8080`, `[::1]:8080`, `localhost:9000`) to allow only that one.
enum EgressAllowEntry: Sendable, Hashable, CustomStringConvertible {
    case name(String, port: Int?)
    case network(IPNetwork, port: Int?)

    /// Parses an entry; nil when it is none of the forms above.
    init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !text.isEmpty else { return nil }
        if text.contains("/") {
            guard let network = IPNetwork(text) else { return nil }
            self = .network(network, port: nil)
            return
        }
        if let address = IPAddress(text) {
            self = .network(IPNetwork(address), port: nil)
            return
        }
        var host = Substring(text)
        var port: Int?
        if text.hasPrefix("[") {
            // [v6]:port
            guard let close = text.firstIndex(of: "]"), let address = IPAddress(String(text[text.index(after: text.startIndex)..<close])) else { return nil }
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
            self = .network(IPNetwork(address), port: port)
            return
        }
        if let colon = text.lastIndex(of: ":") {
            guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            host = text[..<colon]
        }
        if let address = IPAddress(String(host)) {
            self = .network(IPNetwork(address), port: port)
            return
        }
        let label = host.hasPrefix("*.") ? host.dropFirst(2) : host
        guard !label.isEmpty, label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else { return nil }
        self = .name(String(host), port: port)
    }

    func matches(name: String, port: Int) -> Bool {
        guard case .name(let pattern, let allowedPort) = self, allowedPort == nil || allowedPort == port else { return false }
        if pattern.hasPrefix("*.") { return name.hasSuffix(pattern.dropFirst()) }
        return name == pattern
    }

    func matches(address: IPAddress, port: Int) -> Bool {
        guard case .network(let network, let allowedPort) = self, allowedPort == nil || allowedPort == port else { return false }
        return network.contains(address)
    }

    var description: String {
        switch self {
        case .name(let name, let port): port.map { "\(name):\($0)" } ?? name
        case .network(let network, let port):
            port.map { network.address.isIPv4 ? "\(network):\($0)" : "[\(network)]:\($0)" } ?? "\(network)"
        }
    }
}
