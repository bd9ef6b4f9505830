import Foundation

/// An outbound HTTP request to a platform API.
public struct TransportRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Data?

    public init(method: String, url: String, headers: [(String, String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A platform's answer. Header names are lower-cased.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `Retry-After` in seconds, when present.
    public var retryAfter: Duration? {
        guard let value = headers["retry-after"], let seconds = Int(value.trimmingCharacters(in: .whitespaces)) else { return nil }
        return .seconds(max(0, seconds))
    }
}

/// The shared outbound HTTP client, as adapters see it. Thrown errors mean the platform was not reached.
public protocol HTTPTransport: Sendable {
    /// Performs the request, reading at most `maxResponseBytes` of body; a larger body throws
    /// `TransportError.responseTooLarge`.
    func perform(_ request: TransportRequest, maxResponseBytes: Int) async throws -> TransportResponse
}

extension HTTPTransport {
    public func perform(_ request: TransportRequest) async throws -> TransportResponse {
        try await perform(request, maxResponseBytes: 1 << 20)
    }
}

/// Why the transport gave no answer. `refused` and `unreachable` carry no detail on purpose: the
/// transport logs host, address and cause, and what callers show agents says nothing about the
/// bridge's network (which addresses are internal, which ports are open).
public enum TransportError: Error, Sendable, Equatable {
    case responseTooLarge(limit: Int)
    case invalidURL(String)
    /// The egress policy refused the destination (an internal address, a scheme other than http/https).
    case refused
    /// The remote could not be reached or did not answer in time (connection failure, TLS, deadline, idle read).
    case unreachable
}
