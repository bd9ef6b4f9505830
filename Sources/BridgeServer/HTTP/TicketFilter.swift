import ChannelKit
import Foundation
import Hummingbird
import HummingbirdCore
import UniversalInbox

/// The ticket list's query parameters → a `TicketQuery`. Filters combine (all must hold).
///
/// `status`, `channel`, `priority`, `tag`, `department` (id), `agent` (id, `me` or `none`),
/// `createdFrom`/`createdBefore` (ISO-8601 date or date-time), `contact` (name, user id or phone),
/// `q` (full text over messages), `view` (`unassigned`, `mine`, `my-pending`, `spam`),
/// `field.KEY` / `contact.KEY` (a custom ticket / contact field's value), `limit`, `cursor`.
enum TicketFilter {
    /// Saved views: named filter sets.
    enum View: String, CaseIterable {
        case unassigned, mine, spam
        case myPending = "my-pending"
    }

    /// The query for a request, a saved view (`view=<id>`) first applied under the request's own
    /// parameters. One over the inbox's search limits is refused here already, so a saved view
    /// or bulk filter that could never run is refused when it is given.
    static func query(_ params: Parameters, actor: Actor, inbox: Inbox) async throws -> TicketQuery {
        let query = try await withSavedView(params, actor: actor, inbox: inbox)
        try inbox.searchLimits.check(query)
        return query
    }

    private static func withSavedView(_ params: Parameters, actor: Actor, inbox: Inbox) async throws -> TicketQuery {
        guard let view = params["view"], View(rawValue: String(view)) == nil else { return try query(params, actor: actor) }
        guard let id = Int64(view), let saved = try await inbox.savedViews(for: actor.agentId).first(where: { $0.id == id }) else {
            throw APIError.badRequest(
                "invalid_view", "view must be one of \(View.allCases.map(\.rawValue).joined(separator: ", ")) or the id of a saved view of yours")
        }
        var merged = try QueryString.parameters(saved.filter[...])
        for (name, value) in params where name != "view" { merged[name] = value }
        return try query(merged, actor: actor)
    }

    static func query(_ params: Parameters, actor: Actor) throws -> TicketQuery {
        var query = TicketQuery()
        if let status = params["status"] { query.status = try parseEnum(String(status), as: TicketStatus.self, field: "status") }
        if let channel = params["channel"] { query.channel = try parseEnum(String(channel), as: ChannelKind.self, field: "channel").rawValue }
        if let priority = params["priority"] { query.priority = try parseEnum(String(priority), as: TicketPriority.self, field: "priority") }
        if let tag = params["tag"] { query.tag = String(tag) }
        if let department = params["department"] { query.departmentId = try number(department, "department") }
        if let agent = params["agent"] {
            switch agent {
            case "none": query.unassigned = true
            case "me": query.agentId = try me(actor)
            default: query.agentId = try number(agent, "agent")
            }
        }
        if let view = params["view"], View(rawValue: String(view)) != nil {
            switch try parseEnum(String(view), as: View.self, field: "view") {
            case .unassigned: query.unassigned = true
            case .spam: query.status = .spam
            case .mine: query.agentId = try me(actor)
            case .myPending:
                query.agentId = try me(actor)
                query.status = .pending
            }
        }
        if let from = params["createdFrom"] { query.createdFrom = try date(from, "createdFrom") }
        if let before = params["createdBefore"] { query.createdBefore = try date(before, "createdBefore") }
        if let limit = params["limit"] {
            guard let n = Int(limit), (1...200).contains(n) else { throw APIError.badRequest("invalid_limit", "limit must be 1 to 200") }
            query.limit = n
        }
        for (name, value) in params {
            if name.hasPrefix("field.") { query.ticketFields[String(name.dropFirst(6))] = String(value) }
            if name.hasPrefix("contact.") { query.contactFields[String(name.dropFirst(8))] = String(value) }
        }
        query.cursor = params["cursor"].map(String.init)
        query.text = params["q"].map(String.init)
        query.contact = params["contact"].map(String.init)
        return query
    }

    private static func me(_ actor: Actor) throws -> Int64 {
        guard let id = actor.agentId else { throw APIError.badRequest("not_an_agent", "\"me\" needs an agent's token, not the admin token") }
        return id
    }

    private static func number(_ text: Substring, _ field: String) throws -> Int64 {
        guard let n = Int64(text), n > 0 else { throw APIError.badRequest("invalid_\(field)", "\(field) is an id (a positive whole number)") }
        return n
    }

    static func date(_ text: Substring, _ field: String) throws -> Date {
        let text = String(text)
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let day = try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day()) { return day }
        throw APIError.badRequest("invalid_\(field)", "\(field) must be an ISO-8601 date (2026-11-21) or date-time (2026-11-21T09:00:00Z)")
    }
}
