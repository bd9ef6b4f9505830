import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WebchatChannel

/// The widget's two public files: `GET /widget.js`, the loader a business pastes into its site
/// (one `<script>` tag), and `GET /widget/{accountId}`, the page the loader frames. The page's
/// CSP is the inbox's strict one except `frame-ancestors`, which is the account's
/// `allowedOrigins`: the browser itself refuses to show the widget inside any other site.
struct WidgetPageController: Sendable {
    let assets: WebAssets
    let registry: ChannelRegistry

    func addRoutes(to router: Router<BridgeRequestContext>) {
        router.get("/widget.js") { _, _ in
            guard let loader = assets.files["widget/loader.js"] else { throw APIError.notFound("the widget is not bundled") }
            // A fixed URL pasted into sites: cached briefly, so a new bridge's loader arrives soon.
            return Response(
                status: .ok,
                headers: [
                    .contentType: loader.contentType, .cacheControl: "public, max-age=300", .xContentTypeOptions: "nosniff",
                    .init("Cross-Origin-Resource-Policy")!: "cross-origin",
                ],
                body: .init(byteBuffer: loader.body))
        }
        router.get("/widget/:accountId") { _, context in
            let id = context.parameters.get("accountId") ?? ""
            guard let adapter = registry.adapter(kind: .webchat, id: id) as? WebchatAdapter, !registry.isDisabled(adapter.account.key) else {
                return Response(
                    status: .notFound, headers: Self.headers(frameAncestors: "'none'"),
                    body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><title>Not found</title><p>No such chat.</p>")))
            }
            let template = assets.files["widget/widget.html"].map { String(buffer: $0.body) } ?? ""
            return Response(
                status: .ok, headers: Self.headers(frameAncestors: adapter.configuration.allowedOrigins.joined(separator: " ")),
                body: .init(byteBuffer: ByteBuffer(string: template.replacingOccurrences(of: "{{assets}}", with: assets.prefix))))
        }
    }

    /// The inbox's policy, framed only by `frameAncestors`. The referrer stays on the bridge.
    static func headers(frameAncestors: String) -> HTTPFields {
        [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-cache", .xContentTypeOptions: "nosniff", .referrerPolicy: "same-origin",
            .contentSecurityPolicy:
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors \(frameAncestors); base-uri 'none'; form-action 'self'",
        ]
    }
}
