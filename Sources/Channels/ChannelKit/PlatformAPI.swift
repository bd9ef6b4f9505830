import Foundation

/// Small helpers adapters share to build requests and read answers from JSON platform APIs.
public enum PlatformAPI {
    /// A JSON `POST`, with a bearer token where the platform takes one.
    public static func jsonPost(_ url: String, bearer token: String?, body: some Encodable, extraHeaders: [(String, String)] = []) throws -> TransportRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let auth = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        return TransportRequest(
            method: "POST", url: url, headers: auth + [("Content-Type", "application/json")] + extraHeaders, body: try encoder.encode(body))
    }

    /// A `GET` with a bearer token.
    public static func get(_ url: String, bearer token: String) -> TransportRequest {
        TransportRequest(method: "GET", url: url, headers: [("Authorization", "Bearer \(token)")])
    }

    /// Decodes a platform payload (its envelope: events inside it are read one by one with
    /// `EachEvent`), turning decoding failures into `.malformed` with the path that failed.
    public static func decodeWebhook<T: Decodable>(_ type: T.Type, from body: Data) throws(WebhookError) -> T {
        guard !body.isEmpty else { throw .malformed("empty body") }
        do {
            return try WebhookJSONDecoder.decode(T.self, from: body)
        } catch {
            throw .malformed(describe(error))
        }
    }

    /// Why a JSON body (or, `at` a path, one element of it) did not decode, naming the path that failed.
    public static func describe(_ error: any Error, at element: [any CodingKey] = []) -> String {
        switch error {
        case _ where !element.isEmpty && !(error is WebhookError) && (error as? DecodingError).map(Self.hasNoPath) ?? true:
            "unreadable value in \(path(element))"
        case DecodingError.keyNotFound(let key, let context): "missing field \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context): "wrong type at \(path(context.codingPath))"
        case DecodingError.valueNotFound(_, let context): "null at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty: "unreadable value at \(path(context.codingPath))"
        case let error as WebhookError: error.message
        default: "body is not valid JSON"
        }
    }

    /// Decodes an API answer, or `nil` when it is not of that shape.
    public static func decodeAnswer<T: Decodable>(_ type: T.Type, from body: Data) -> T? {
        try? WebhookJSONDecoder.decode(T.self, from: body)
    }

    /// Downloads a file (a platform's media endpoint or a CDN URL), refusing anything over `maxBytes`.
    public static func download(_ url: String, bearer token: String?, maxBytes: Int, transport: any HTTPTransport) async throws -> TransportResponse {
        try await download(url, authorization: token.map { "Bearer \($0)" }, maxBytes: maxBytes, transport: transport)
    }

    /// Downloads a file with any `Authorization` header value (or none).
    public static func download(_ url: String, authorization: String?, maxBytes: Int, transport: any HTTPTransport) async throws -> TransportResponse {
        let request = TransportRequest(method: "GET", url: url, headers: authorization.map { [("Authorization", $0)] } ?? [])
        do {
            return try await transport.perform(request, maxResponseBytes: maxBytes)
        } catch TransportError.responseTooLarge(let limit) {
            throw SendError.permanent("too_large", "the file exceeds the \(limit)-byte limit")
        }
    }

    /// Refuses a file whose announced size is over the limit, before fetching it.
    public static func checkSize(_ size: Int?, maxBytes: Int) throws {
        if let size, size > maxBytes {
            throw SendError.permanent("too_large", "file of \(size) bytes exceeds the \(maxBytes)-byte limit")
        }
    }

    /// The generic mapping of HTTP statuses without a more specific platform error code.
    public static func error(forStatus status: Int, reason: String, retryAfter: Duration?) -> SendError {
        switch status {
        case 429: .retryable("http_429", reason, after: retryAfter)
        case 500...599: .retryable("http_\(status)", reason, after: retryAfter)
        case 401, 403: .permanent("http_\(status)", "the platform refused our credentials: \(reason)")
        default: .permanent("http_\(status)", reason)
        }
    }

    private static func hasNoPath(_ error: DecodingError) -> Bool {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            context.codingPath.isEmpty
        @unknown default: true
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
