import Foundation
import Hummingbird
import Logging
import NIOCore
import UniversalInbox

/// The one-click unsubscribe of campaign mail (RFC 8058), public like a history link:
/// - `POST /unsubscribe/{token}` (what Gmail or Yahoo sends, body `List-Unsubscribe=One-Click`)
///   puts the token's address on the opt-out list. No sign-in and no CSRF token, by the RFC's
///   design: the token is the authority, and all it can do is stop mail to its own address.
///   Idempotent. An unknown token is 404 with a JSON error.
/// - `GET /unsubscribe/{token}` (the link in the text, opened by the customer or a mail scanner)
///   only shows a page whose button does that POST: a GET never unsubscribes.
/// The pages (`web/unsubscribe/`) have no script; answers are never cached and send no referrer.
/// The token is never logged: failures here are logged without the path.
struct UnsubscribeController: Sendable {
    let inbox: Inbox
    let tokens: UnsubscribeTokens
    let assets: WebAssets
    let logger: Logger

    func addRoutes(to router: Router<BridgeRequestContext>) {
        router.get("/unsubscribe/:token") { _, context in
            await guarded {
                guard try await tokens.address(of: context.parameters.get("token") ?? "") != nil else {
                    return page("invalid.html", status: .notFound)
                }
                return page("page.html")
            }
        }
        router.post("/unsubscribe/:token") { request, context in
            await guarded {
                // The body says nothing the token does not: read (bounded) and not required.
                _ = try await request.readBody(upTo: 4096)
                guard let address = try await tokens.address(of: context.parameters.get("token") ?? "") else {
                    return APIError.notFound("this unsubscribe link is not valid").response
                }
                _ = try await inbox.addEmailOptOut(address, source: EmailOptOut.linkSource, by: nil)
                if request.headers[.accept]?.contains("text/html") == true { return page("done.html") }
                return JSONResponse.make(["unsubscribed": true])
            }
        }
    }

    /// Runs a handler, answering any failure here rather than in `APIErrorMiddleware`, which
    /// would log the path (and so the token).
    private func guarded(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as APIError {
            return error.response
        } catch {
            logger.error("unsubscribe failed", metadata: ["error": "\(error)"])
            return APIError(status: .internalServerError, code: "internal", message: "the bridge could not complete the request").response
        }
    }

    private func page(_ name: String, status: HTTPResponse.Status = .ok) -> Response {
        let template = assets.files["unsubscribe/\(name)"].map { String(buffer: $0.body) } ?? ""
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .referrerPolicy: "no-referrer",
                .contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff", .init("X-Robots-Tag")!: "noindex",
            ],
            body: .init(byteBuffer: ByteBuffer(string: template.replacingOccurrences(of: "{{assets}}", with: assets.prefix))))
    }
}
