import AsyncHTTPClient
import ChannelKit
import Foundation
import NIOCore
import NIOHTTP1

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
