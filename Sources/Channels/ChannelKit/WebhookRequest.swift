import Foundation

/// A webhook call as the adapter sees it: the raw body exactly as received, lower-cased header
/// names and the decoded query string. No server types, so adapters stay framework-free.
public struct WebhookRequest: Sendable {
    public var method: String
    /// Full public URL of the request (some platforms sign it).
    public var url: String
    public var headers: [String: String]
    public var query: [String: String]
    public var body: Data
    /// When the bridge received the call (the event time for platforms that send none, like Twilio).
    public var receivedAt: Date

    public init(
        method: String, url: String = "", headers: [String: String] = [:], query: [String: String] = [:], body: Data = Data(),
        receivedAt: Date = Date()
    ) {
        self.method = method
        self.url = url
        self.receivedAt = receivedAt
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.query = query
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// What to answer the platform.
public struct WebhookResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String = "") {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static let ok = WebhookResponse(status: 200, body: "")
}

/// A webhook the bridge refuses. Nothing is stored for it.
public enum WebhookError: Error, Sendable, Equatable {
    /// Signature missing or wrong: 401.
    case unauthorized(String)
    /// Handshake with the wrong verify token: 403.
    case forbidden(String)
    /// Signed correctly but not a payload we can read: 400.
    case malformed(String)
    /// Not checked because a store the check needs cannot be reached: 503, for the platform to
    /// deliver it again.
    case unavailable(String)

    public var status: Int {
        switch self {
        case .unauthorized: 401
        case .forbidden: 403
        case .malformed: 400
        case .unavailable: 503
        }
    }

    public var code: String {
        switch self {
        case .unauthorized: "invalid_signature"
        case .forbidden: "forbidden"
        case .malformed: "malformed_payload"
        case .unavailable: "unavailable"
        }
    }

    public var message: String {
        switch self {
        case .unauthorized(let m), .forbidden(let m), .malformed(let m), .unavailable(let m): m
        }
    }
}
