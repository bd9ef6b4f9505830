import Hummingbird
import Logging
import NIOCore

/// The bridge's small public pages (the unsubscribe page, the widget's address confirmation): one
/// card of static HTML from the embedded assets (`{{assets}}` is their prefix), without script; a
/// button posts a form back to the same address. Never cached, no referrer (the address holds a
/// token), not indexed, never framed.
enum CardPage {
    static func response(_ assets: WebAssets, _ path: String, status: HTTPResponse.Status = .ok) -> Response {
        let template = assets.files[path].map { String(buffer: $0.body) } ?? ""
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .referrerPolicy: "no-referrer",
                .contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff", .init("X-Robots-Tag")!: "noindex",
            ],
            body: .init(byteBuffer: ByteBuffer(string: template.replacingOccurrences(of: "{{assets}}", with: assets.prefix))))
    }

    /// Runs a card page's handler, answering any failure here rather than in `APIErrorMiddleware`,
    /// which would log the path (and so its token).
    static func guarded(logger: Logger, _ failure: Logger.Message, _ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as APIError {
            return error.response
        } catch {
            logger.error(failure, metadata: ["error": "\(error)"])
            return APIError(status: .internalServerError, code: "internal", message: "the bridge could not complete the request").response
        }
    }
}
