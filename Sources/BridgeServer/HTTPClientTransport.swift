import AsyncHTTPClient
import ChannelKit
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle

/// `HTTPTransport` over the one shared async-http-client.
struct HTTPClientTransport: HTTPTransport {
    let client: HTTPClient
    var timeout: TimeAmount = .seconds(15)

    func perform(_ request: TransportRequest, maxResponseBytes: Int) async throws -> TransportResponse {
        guard URL(string: request.url)?.host != nil else { throw TransportError.invalidURL(request.url) }
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(outgoing, timeout: timeout)
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
    }
}

extension HTTPClient {
    /// A client that trusts the certificate authorities in `caFile` (PEM) instead of the system's.
    static func trusting(caFile: String) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        } catch {
            throw ConfigError(key: "caFile", problem: "\(caFile) is not a readable PEM certificate bundle")
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .automatic
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// Shuts down an HTTP client of the bridge's own when the bridge stops.
struct HTTPClientOwner: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
