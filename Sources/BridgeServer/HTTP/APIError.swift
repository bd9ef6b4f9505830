import ChannelKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UniversalInbox

/// An error answered as `{"error":{"code","message"}}` with its HTTP status.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Extra response headers, e.g. `Retry-After` on a 429.
    var headers: HTTPFields = [:]

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(status: .badRequest, code: code, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    /// A well-formed request refused by a rule the document states in words (422).
    static func unprocessable(_ code: String, _ message: String) -> APIError { APIError(status: .unprocessableContent, code: code, message: message) }
    /// The admin token asked for what only an agent has (its own alerts, read marks, views).
    static func notAnAgent(_ message: String) -> APIError { APIError(status: .forbidden, code: "not_an_agent", message: message) }
    /// A request body over the endpoint's limit (`nil`: a limit the reader did not name).
    static func bodyTooLarge(maxBytes: Int?) -> APIError {
        APIError(
            status: .contentTooLarge, code: "body_too_large",
            message: "the body is larger than \(maxBytes.map { "\($0) bytes" } ?? "the limit"), the most this endpoint takes")
    }

    init(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    init(_ error: InboxError) {
        switch error {
        case .notFound(let what): self.init(status: .notFound, code: "not_found", message: "\(what) does not exist")
        case .conflict(let code, let message): self.init(status: .conflict, code: code, message: message)
        case .invalid(let code, let message): self.init(status: .badRequest, code: code, message: message)
        case .unprocessable(let code, let message): self.init(status: .unprocessableContent, code: code, message: message)
        case .refused(let send): self.init(status: .unprocessableContent, code: send.code, message: send.reason)
        case .forbidden(let code, let message): self.init(status: .forbidden, code: code, message: message)
        }
    }

    var response: Response {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
            }
            var error: Detail
        }
        var response = JSONResponse.make(Body(error: .init(code: code, message: message)), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// JSON responses with ISO-8601 dates (milliseconds) and sorted keys.
enum JSONResponse {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let data = try encoder().encode(value)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            return Response(status: .internalServerError)
        }
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Turns every error escaping a route into the JSON error shape; unknown errors become a 500 that
/// says nothing about internals (they are logged).
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as InboxError {
            return APIError(error).response
        } catch let error as HTTPError {
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .contentTooLarge: code = "body_too_large"
            case .methodNotAllowed: code = "method_not_allowed"
            default: code = "http_\(error.status.code)"
            }
            let message = error.body ?? (error.status == .notFound ? "no route for \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return APIError(status: error.status, code: code, message: message).response
        } catch is NIOTooManyBytesError {
            // A body read with a limit but not through `Request.readBody(upTo:)`, which names the limit
            // (NIO's error holds what was left of it, not the limit).
            return APIError.bodyTooLarge(maxBytes: nil).response
        } catch let error as SearchTooCostly {
            return APIError(
                status: .serviceUnavailable, code: "search_too_costly",
                message: "the search was stopped after \(error.timeout): it costs too much; use more specific words or add filters"
            ).response
        } catch is CancellationError {
            // The client went away (see `untilClientLeaves`), or the bridge is stopping: nobody reads this.
            return APIError(status: .serviceUnavailable, code: "cancelled", message: "the request was cancelled").response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return APIError(status: .internalServerError, code: "internal", message: "the bridge could not complete the request").response
        }
    }
}

/// Requires `Authorization: Bearer <token>` (see `Authenticator`), or, without that header, the web
/// page's session cookie (an agent's login token, see `SessionCookie`), and puts the caller in the
/// context. A cookie-authenticated request that changes anything must come from the bridge's own
/// origin, else 403 `cross_origin`: browsers attach cookies to other sites' requests too.
struct BearerAuthMiddleware: RouterMiddleware {
    let authenticator: Authenticator
    /// `server.publicBaseURL`, whose origin is the bridge's own besides the request's `Host`.
    let publicBaseURL: String?

    func handle(
        _ request: Request, context: BridgeRequestContext, next: (Request, BridgeRequestContext) async throws -> Response
    ) async throws -> Response {
        let token: String
        let actor: Caller
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else {
                return APIError(status: .unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token>").response
            }
            token = String(header.dropFirst(7))
            guard let found = try await authenticator.actor(token: token) else {
                return APIError(status: .unauthorized, code: "unauthorized", message: "the token is not valid (unknown, revoked or expired)").response
            }
            actor = found
        } else if let cookie = SessionCookie.token(in: request.headers) {
            // Only agents sign in to the page: the admin token is never a cookie.
            guard let found = try await authenticator.actor(token: cookie), found.agentId != nil else {
                return APIError(status: .unauthorized, code: "unauthorized", message: "the session has ended (signed out or expired); sign in again").response
            }
            guard SameOrigin.isSafe(request.method)
                || SameOrigin.allows(origin: request.headers[.origin], authority: request.head.authority, publicBaseURL: publicBaseURL)
            else { return APIError.crossOrigin.response }
            token = cookie
            actor = found
        } else {
            return APIError(status: .unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token>, or sign in").response
        }
        var context = context
        context.actor = actor
        context.tokenDigest = actor.agentId == nil ? nil : AccessTokens.digest(token)
        return try await next(request, context)
    }
}
