import HTTPTypes
import Hummingbird

/// A request for a path the bridge routes, with a method it does not route there, is 405
/// `method_not_allowed` with `Allow` listing the methods that are (RFC 9110 §15.5.6), not the
/// router's 404 "no route".
///
/// Add it to the router after every route: a router middleware wraps only the routes added after
/// it, and the not-found responder, built last, so this one runs only for requests no route took.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each routed path's segments (a `{name}` capture or `*` matches any one segment) and its methods.
    private let routes: [(segments: [Substring], methods: [HTTPRequest.Method])]

    init(routes: [(path: String, method: HTTPRequest.Method)]) {
        var methods: [String: [HTTPRequest.Method]] = [:]
        for route in routes { methods[route.path, default: []].append(route.method) }
        self.routes = methods.map { (Self.segments($0.key), $0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = Self.segments(request.uri.path)
        let allowed = routes.filter { Self.matches($0.segments, path) }.flatMap(\.methods)
        guard !allowed.isEmpty else { return try await next(request, context) }
        let allow = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
        throw APIError(
            status: .methodNotAllowed, code: "method_not_allowed", message: "\(request.method) is not allowed here; use \(allow)",
            headers: [.allow: allow])
    }

    private static func segments(_ path: String) -> [Substring] { path.split(separator: "/") }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        pattern.count == path.count && zip(pattern, path).allSatisfy { ($0.hasPrefix("{") && $0.hasSuffix("}")) || $0 == "*" || $0 == $1 }
    }
}
