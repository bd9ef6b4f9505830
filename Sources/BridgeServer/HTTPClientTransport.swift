import AsyncHTTPClient
import ChannelKit
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle

/// The one `HTTPTransport` of the bridge: every adapter, the notifier, outgoing webhooks and media
/// downloads send through it, and it applies the `EgressPolicy` to each of their requests:
/// - each hop's destination is checked (and a resolved name pinned to the checked address);
/// - redirects are followed here, for GET and HEAD only, at most `EgressPolicy.maxRedirects`, each
///   hop checked again, credentials dropped when the origin changes;
/// - one deadline covers the whole request (all hops, the whole body) and a read idle timeout
///   aborts a remote that stops sending;
/// - what goes wrong is logged here in full (host, port, address, cause) and thrown as
///   `TransportError.refused` or `.unreachable`, which say nothing about the bridge's network.
struct HTTPClientTransport: HTTPTransport {
    let policy: EgressPolicy
    let clients: EgressClients
    let logger: Logger

    /// `tls`: trust roots other than the system's (a private APNs stand-in).
    init(policy: EgressPolicy, tls: TLSConfiguration? = nil, logger: Logger = Logger(label: "bridge.egress")) {
        self.policy = policy
        self.clients = EgressClients(
            readIdleTimeout: policy.readIdleTimeout, connectTimeout: min(policy.timeout, .seconds(10)), tls: tls)
        self.logger = logger
    }

    func perform(_ request: TransportRequest, maxResponseBytes: Int) async throws -> TransportResponse {
        var log = logger
        log[metadataKey: "egress.method"] = "\(request.method)"
        do {
            return try await Self.within(policy.timeout) { try await exchange(request, maxResponseBytes: maxResponseBytes) }
        } catch let refusal as EgressRefusal {
            log.warning("egress refused", metadata: refusal.metadata)
            throw refusal.reason == .unresolvable ? TransportError.unreachable : TransportError.refused
        } catch let error as TransportError {
            throw error
        } catch let failure as HopFailure {
            log.warning("egress request failed", metadata: ["egress.destination": "\(failure.origin)", "error": "\(failure.cause)"])
            throw TransportError.unreachable
        } catch is DeadlineExceeded {
            log.warning("egress request failed", metadata: ["error": "no complete answer within \(policy.timeout)"])
            throw TransportError.unreachable
        }
    }

    /// Shuts the clients down (the bridge is stopping).
    func shutdown() async { await clients.shutdown() }

    /// Sends `request`, following redirects; every hop is checked by the policy first.
    private func exchange(_ request: TransportRequest, maxResponseBytes: Int) async throws -> TransportResponse {
        var current = request
        var origin: String?
        for _ in 0...EgressPolicy.maxRedirects {
            guard URL(string: current.url) != nil else { throw TransportError.invalidURL(current.url) }
            let destination = try await policy.destination(for: current.url)
            if let origin, origin != destination.origin {
                // Never carry one site's credentials to another (Twilio's media redirects to a CDN).
                current.headers.removeAll { ["authorization", "cookie", "proxy-authorization"].contains($0.0.lowercased()) }
            }
            origin = destination.origin
            let response = try await clients.withClient(for: destination) { client in
                try await fetch(current, from: destination, with: client, maxResponseBytes: maxResponseBytes)
            }
            guard let next = redirect(from: current, answer: response) else { return response }
            current = next
        }
        throw HopFailure(origin: origin ?? "", cause: "more than \(EgressPolicy.maxRedirects) redirects")
    }

    private func fetch(
        _ request: TransportRequest, from destination: EgressDestination, with client: HTTPClient, maxResponseBytes: Int
    ) async throws -> TransportResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(outgoing, timeout: TimeAmount(policy.timeout))
            var headers: [String: String] = [:]
            for header in response.headers { headers[header.name.lowercased()] = header.value }
            if let length = headers["content-length"].flatMap(Int.init), length > maxResponseBytes {
                throw TransportError.responseTooLarge(limit: maxResponseBytes)
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: maxResponseBytes)
            } catch is NIOTooManyBytesError {
                throw TransportError.responseTooLarge(limit: maxResponseBytes)
            }
            return TransportResponse(status: Int(response.status.code), headers: headers, body: Data(buffer: body))
        } catch let error as TransportError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw HopFailure(origin: destination.origin + (destination.pinned.map { " (\($0))" } ?? ""), cause: "\(error)")
        }
    }

    /// The request for the next hop when `answer` redirects a GET or HEAD; nil otherwise.
    private func redirect(from request: TransportRequest, answer: TransportResponse) -> TransportRequest? {
        guard [301, 302, 303, 307, 308].contains(answer.status), request.method == "GET" || request.method == "HEAD",
            let location = answer.headers["location"], let base = URL(string: request.url),
            let target = URL(string: location, relativeTo: base)?.absoluteURL
        else { return nil }
        var next = request
        next.url = target.absoluteString
        return next
    }

    /// Runs `body`, throwing `DeadlineExceeded` (and cancelling it) when `limit` passes first.
    private static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw DeadlineExceeded()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw DeadlineExceeded() }
            return first
        }
    }

    private struct DeadlineExceeded: Error {}

    /// A hop that failed below the policy (connection, TLS, idle read): logged, then `.unreachable`.
    private struct HopFailure: Error {
        var origin: String
        var cause: String
    }
}

extension EgressRefusal {
    /// Log metadata: where and why, never a path or query (they may carry tokens).
    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["egress.host": "\(host)", "egress.reason": "\(description)"]
        if let port { metadata["egress.port"] = "\(port)" }
        if case .internalAddress(let address, let scope) = reason {
            metadata["egress.address"] = "\(address)"
            metadata["egress.scope"] = "\(scope.rawValue)"
        }
        return metadata
    }
}

extension TLSConfiguration {
    /// A client configuration that trusts the certificate authorities in `caFile` (PEM) instead of the system's.
    static func trusting(caFile: String) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        } catch {
            throw ConfigError(key: "caFile", problem: "\(caFile) is not a readable PEM certificate bundle")
        }
        return tls
    }
}

/// Shuts the transport's HTTP clients down when the bridge stops.
struct HTTPTransportOwner: Service {
    let transport: HTTPClientTransport

    func run() async throws {
        try? await gracefulShutdown()
        await transport.shutdown()
    }
}
