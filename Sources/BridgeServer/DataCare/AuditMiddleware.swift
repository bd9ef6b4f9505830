import Foundation
import Hummingbird
import Logging
import NIOCore
import UniversalInbox

/// The audit log's one mechanism: every change an owner or admin makes through the API
/// (POST/PUT/PATCH/DELETE answered with a success), and every read that hands out a customer's
/// personal data as a file (`AuditScope.auditedReads`), is recorded with who, when, the method, the
/// route as registered, the target's id and a short summary, whatever the route. Day-to-day ticket
/// work (replies, notes, claims, the caller's own settings, signing in) is not a settings change and
/// is left out (`AuditScope`). Runs after authentication, inside the route, so the caller and the
/// route's parameters are known.
///
/// The entry is written after the change committed: a failure to write it is logged (never the
/// body) and does not undo or fail the change, which has already happened.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = BridgeRequestContext
    let inbox: Inbox
    let logger: Logger
    let clock: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The route as the router matched it, not the path as sent: the router ignores empty
        // segments, so `/api//v1/...` or a trailing `/` reach the same handler and must be judged alike.
        guard let actor = context.actor, actor.managesSettings, AuditScope.records(request.method, context.endpointPath ?? request.uri.path) else {
            return try await next(request, context)
        }
        var request = request
        var fields: [String: AuditValue] = [:]
        if AuditScope.isChange(request.method) {
            // Collected once here and handed on buffered: the route reads the same bytes (and
            // applies its own, smaller, limit to them). Whatever the Content-Type says: the routes
            // read JSON under any, so the summary does too.
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: AuditScope.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                throw APIError.bodyTooLarge(maxBytes: AuditScope.maxBodyBytes)
            }
            if let object = try? JSONDecoder().decode([String: AuditValue].self, from: Data(buffer: buffer)) { fields = object }
        }
        let response = try await next(request, context)
        guard (200..<300).contains(response.status.code) else { return response }
        let target = context.parameters.get("id") ?? context.parameters.get("address") ?? AuditSummary.targetId(in: fields)
        let entry = NewAuditEntry(
            at: clock(), actorId: actor.agentId, actorName: actor.name, actorRole: actor.role.rawValue, method: request.method.rawValue,
            route: context.endpointPath ?? request.uri.path, targetId: target, summary: AuditSummary.text(of: fields), status: response.status.code)
        do {
            try await inbox.recordAudit(entry)
        } catch {
            logger.error("could not record an audit log entry", metadata: ["route": "\(entry.route)", "error": "\(error)"])
        }
        return response
    }
}

/// Which requests the audit log records.
enum AuditScope {
    /// A settings body is small (the routes take at most 256 KiB of JSON); over this it is refused
    /// here with a 413, as the route would.
    static let maxBodyBytes = 16 << 20

    static func isChange(_ method: HTTPRequest.Method) -> Bool {
        [.post, .put, .patch, .delete].contains(method)
    }

    /// Work on tickets and contacts in the inbox, the caller's own session, alerts and devices,
    /// uploads for replies and read-only checks: not settings. Everything else under `/api/v1`
    /// (agents, departments, fields, rules, channels, campaigns, retention, erasures, any route
    /// added later) is.
    static let excludedPrefixes = [
        "/api/v1/auth/", "/api/v1/me", "/api/v1/tickets", "/api/v1/messages/", "/api/v1/contacts/", "/api/v1/uploads",
        "/api/v1/forbidden-words/check",
    ]

    static func covers(_ path: String) -> Bool {
        path.hasPrefix("/api/v1/") && !excludedPrefixes.contains { path.hasPrefix($0) }
    }

    /// Reads recorded like changes: each hands out everything stored about one customer (what a
    /// business must be able to account for under GDPR or APPI), path segments with `*` for an id.
    static let auditedReads: [[Substring]] = [["", "api", "v1", "data", "contacts", "*", "export"]]

    /// Whether the audit log records this request.
    static func records(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        if isChange(method) { return covers(path) }
        guard method == .get else { return false }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return auditedReads.contains { pattern in
            pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }
}

/// The short summary of a change: the body's identifying fields (names, roles, periods, the
/// contact erased), never its other values. An allow-list, so a secret (a password, a channel's
/// token, a webhook's URL or signing secret) can never reach the log, whatever a route calls it.
enum AuditSummary {
    static let keys = [
        "name", "displayName", "email", "role", "title", "shortcut", "word", "key", "label", "scope", "type", "trigger", "channel", "kind",
        "status", "shared", "active", "contactId", "messagesDays", "attachmentsDays", "departmentId", "maxTickets", "address", "threshold",
    ]

    static func text(of fields: [String: AuditValue]) -> String {
        let parts = keys.compactMap { key -> String? in
            guard let value = fields[key] else { return nil }
            let text: String =
                switch value {
                case .text(let string): string
                case .null: "none"
                case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
                case .bool(let bool): bool ? "true" : "false"
                case .other: "…"
                }
            return "\(key)=\(text.count > 60 ? text.prefix(59) + "…" : text)"
        }
        let others = fields.keys.filter { !keys.contains($0) }.count
        return (parts + (others > 0 ? ["+\(others) more"] : [])).joined(separator: ", ")
    }

    /// A body's target when the path has none (an erasure names its contact in the body).
    static func targetId(in fields: [String: AuditValue]) -> String? {
        if case .number(let id) = fields["contactId"], id == id.rounded(), abs(id) < 1e15 { String(Int64(id)) } else { nil }
    }
}

/// A top-level value of a JSON body, as far as a summary needs it.
enum AuditValue: Decodable {
    case text(String), number(Double), bool(Bool), null, other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .other
        }
    }
}
