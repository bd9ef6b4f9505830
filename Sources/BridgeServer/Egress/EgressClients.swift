import AsyncHTTPClient
import ChannelKit
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// The async-http-clients behind `HTTPClientTransport`.
///
/// Pinning: a resolved host name is connected to at the address the egress policy checked, never
/// looked up again. async-http-client resolves names itself when it connects and has no per-request
/// resolver, so each (name, checked address) pair gets a client whose `dnsOverride` sends that name
/// to that address; TLS still sends the name (SNI) and verifies the certificate for it. Those
/// clients keep their connection pools while in use and are shut down after a minute idle (or
/// when more than `maxPinned` are open). Address literals and allow-listed names go through
/// `direct`. Redirects are never followed by the clients themselves: the transport follows them
/// and checks every hop.
final class EgressClients: Sendable {
    let direct: HTTPClient
    private let configuration: HTTPClient.Configuration
    private let state = Mutex(State())

    static let maxPinned = 64
    static let pinnedIdleLifetime: Duration = .seconds(60)

    private struct Key: Hashable {
        var host: String
        var address: IPAddress
    }

    private struct Entry {
        var client: HTTPClient
        var inFlight = 0
        var lastUsed = ContinuousClock.now
    }

    private struct State {
        var pinned: [Key: Entry] = [:]
        var isShutDown = false
    }

    init(readIdleTimeout: Duration, connectTimeout: Duration, tls: TLSConfiguration?) {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(connectTimeout), read: TimeAmount(readIdleTimeout)),
            decompression: .enabled(limit: .ratio(25)))
        configuration.httpVersion = .automatic
        self.configuration = configuration
        self.direct = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with the client for `destination`, keeping a pinned client open meanwhile.
    func withClient<T>(for destination: EgressDestination, _ body: (HTTPClient) async throws -> T) async throws -> T {
        guard let address = destination.pinned else { return try await body(direct) }
        let key = Key(host: destination.host, address: address)
        let (client, retired) = try state.withLock { state throws -> (HTTPClient, [HTTPClient]) in
            guard !state.isShutDown else { throw TransportError.unreachable }
            let retired = Self.retire(&state)
            var entry = state.pinned[key] ?? Entry(client: makePinnedClient(host: key.host, address: address))
            entry.inFlight += 1
            entry.lastUsed = .now
            state.pinned[key] = entry
            return (entry.client, retired)
        }
        Self.shutDownLater(retired)
        defer {
            state.withLock { state in
                state.pinned[key]?.inFlight -= 1
                state.pinned[key]?.lastUsed = .now
            }
        }
        return try await body(client)
    }

    /// Shuts every client down (the bridge is stopping).
    func shutdown() async {
        let clients = state.withLock { state in
            state.isShutDown = true
            defer { state.pinned = [:] }
            return state.pinned.values.map(\.client)
        }
        for client in clients + [direct] { try? await client.shutdown() }
    }

    deinit {
        // A transport made without the bridge's lifecycle (tests, one-off commands): async-http-client
        // requires every client to be shut down before it goes away.
        let clients = state.withLock { state in state.isShutDown ? [] : state.pinned.values.map(\.client) + [direct] }
        Self.shutDownLater(clients)
    }

    private func makePinnedClient(host: String, address: IPAddress) -> HTTPClient {
        var configuration = self.configuration
        configuration.dnsOverride = [host: address.description]
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Removes idle pinned clients past their lifetime, and the least recently used idle ones over the cap.
    private static func retire(_ state: inout State) -> [HTTPClient] {
        let now = ContinuousClock.now
        var idle = state.pinned.filter { $0.value.inFlight == 0 }.sorted { $0.value.lastUsed < $1.value.lastUsed }
        var retired: [HTTPClient] = []
        while let oldest = idle.first, now - oldest.value.lastUsed > pinnedIdleLifetime || state.pinned.count >= maxPinned {
            idle.removeFirst()
            state.pinned[oldest.key] = nil
            retired.append(oldest.value.client)
        }
        return retired
    }

    private static func shutDownLater(_ clients: [HTTPClient]) {
        guard !clients.isEmpty else { return }
        Task { for client in clients { try? await client.shutdown() } }
    }
}
