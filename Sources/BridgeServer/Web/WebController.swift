import HTTPTypes
import Hummingbird

/// The web pages: `/` sends the browser to `/inbox/`; every `/inbox/...` path is the inbox's shell
/// (`index.html`) and every `/console/...` path the console's (`console.html`), never cached: they
/// name the current asset version; the files they load are under `/assets/<version>/` and cached
/// for good. The pages are a client of `/api/v1`, like any other: the console's shell is served to
/// anyone, and the API refuses what the caller's role may not do.
struct WebController: Sendable {
    let assets: WebAssets

    func addRoutes(to router: Router<BridgeRequestContext>) {
        let pages = router.group().add(middleware: WebSecurityHeadersMiddleware())
        pages.get("/") { _, _ in Response(status: .found, headers: [.location: "/inbox/"]) }
        // `/inbox` and `/inbox/` are one route; the app routes the paths under it itself.
        for (path, shell) in [("inbox", "index.html"), ("console", "console.html")] {
            pages.get("/\(path)") { _, _ in page(shell) }
            pages.get("/\(path)/**") { _, _ in page(shell) }
        }
        pages.get("/assets/:version/**") { _, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            guard context.parameters.get("version") == assets.version, let file = assets.files[path] else {
                throw APIError.notFound("the web pages have no such file (or it belongs to another version of the bridge)")
            }
            return Response(
                status: .ok, headers: [.contentType: file.contentType, .cacheControl: "public, max-age=31536000, immutable"],
                body: .init(byteBuffer: file.body))
        }
    }

    private func page(_ shell: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
            body: .init(byteBuffer: assets.shells[shell] ?? ByteBuffer()))
    }
}

/// The headers every page and asset answer carries, errors included: only the bridge's own scripts,
/// styles and connections; never framed; no MIME sniffing; no referrer to other sites.
struct WebSecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headers: HTTPFields {
        [
            .contentSecurityPolicy:
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            .xContentTypeOptions: "nosniff",
            .referrerPolicy: "same-origin",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = error.response
        }
        response.headers.append(contentsOf: Self.headers)
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
