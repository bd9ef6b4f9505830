import HTTPTypes
import Hummingbird

/// A request for a path the bridge routes, with a method it does not route there, is 405
/// `method_not_allowed` with `Allow` listing the methods that are (RFC 9110 §15.5.6), not the
/// router's 404 "no route".
///
/// Add it to the router after every route: a router middleware wraps only the routes added after
/// it, and the not-found responder, built last, so this one runs only for requests no route took.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each routed path's segments (a `{name}` capture or `*` matches any one segment, a last `**`
    /// one or more) and its methods.
    private let routes: [(segments: [Substring], methods: [HTTPRequest.Method])]

    init(routes: [(path: String, method: HTTPRequest.Method)]) {
        var methods: [String: [HTTPRequest.Method]] = [:]
        for route in routes { methods[route.path, default: []].append(route.method) }
        self.routes = methods.map { (Self.segments($0.key), $0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = Self.segments(request.uri.path)
        // As the router resolves a path: a literal segment wins over a capture (`tickets/export.csv`
        // is not `tickets/{id}`), so only the most literal of the matching routes count.
        let matching = routes.compactMap { route in Self.literals(route.segments, path).map { (route.methods, $0) } }
        guard let best = matching.map(\.1).max(by: { $0.lexicographicallyPrecedes($1) }) else { return try await next(request, context) }
        let allowed = matching.filter { $0.1 == best }.flatMap(\.0)
        let allow = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
        throw APIError(
            status: .methodNotAllowed, code: "method_not_allowed", message: "\(request.method) is not allowed here; use \(allow)",
            headers: [.allow: allow])
    }

    private static func segments(_ path: String) -> [Substring] { path.split(separator: "/") }

    /// For a route that matches `path`, 1 for each segment it matched literally and 0 for each it
    /// captured; nil when it does not match.
    private static func literals(_ pattern: [Substring], _ path: [Substring]) -> [Int]? {
        if pattern.last == "**" {
            guard path.count >= pattern.count else { return nil }
            return literals(pattern.dropLast() + ["*"], Array(path.prefix(pattern.count)))
        }
        guard pattern.count == path.count else { return nil }
        var literals: [Int] = []
        for (segment, part) in zip(pattern, path) {
            if segment == part {
                literals.append(1)
            } else if (segment.hasPrefix("{") && segment.hasSuffix("}")) || segment == "*" {
                literals.append(0)
            } else {
                return nil
            }
        }
        return literals
    }
}
