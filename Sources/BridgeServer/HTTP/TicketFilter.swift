import ChannelKit
import Foundation
import Hummingbird
import HummingbirdCore
import UniversalInbox

/// The ticket list's query parameters → a `TicketQuery`. Filters combine (all must hold).
///
/// `status` (one, or `active`: new, open or pending), `channel`, `priority`, `tag`, `department` (id), `agent` (id, `me` or `none`),
/// `createdFrom`/`createdBefore` (ISO-8601 date or date-time), `contact` (name, user id or phone),
/// `q` (full text over messages), `view` (`unassigned`, `mine`, `my-pending`, `spam`),
/// `field.KEY` / `contact.KEY` (a custom ticket / contact field's value), `sort` (`newest`, `waiting`), `limit`, `cursor`.
enum TicketFilter {
    /// Saved views: named filter sets.
    enum View: String, CaseIterable {
        case unassigned, mine, spam
        case myPending = "my-pending"
    }

    /// The query for a request, a saved view (`view=<id>`) first applied under the request's own
    /// parameters. One over the inbox's search limits is refused here already, so a saved view
    /// or bulk filter that could never run is refused when it is given.
    static func query(_ params: Parameters, actor: Caller, inbox: Inbox) async throws -> TicketQuery {
        let query = try await withSavedView(params, actor: actor, inbox: inbox)
        try inbox.searchLimits.check(query)
        return query
    }

    /// The query a filter in a request body (a bulk action's, a saved view's) stands for. The
    /// document types such a filter as a string, so what is wrong inside it is 422, not 400.
    static func query(filter: String, actor: Caller, inbox: Inbox) async throws -> TicketQuery {
        do {
            return try await query(try QueryString.parameters(filter[...]), actor: actor, inbox: inbox)
        } catch let error as APIError where error.status == .badRequest {
            throw APIError.unprocessable(error.code, "filter: \(error.message)")
        } catch InboxError.invalid(let code, let message) {
            throw APIError.unprocessable(code, "filter: \(message)")
        }
    }

    private static func withSavedView(_ params: Parameters, actor: Caller, inbox: Inbox) async throws -> TicketQuery {
        guard let view = try params.single("view"), View(rawValue: String(view)) == nil else { return try query(params, actor: actor) }
        guard let id = Int64(view), id > 0 else {
            throw APIError.badRequest(
                "invalid_view", "view must be one of \(View.allCases.map(\.rawValue).joined(separator: ", ")) or the id of a saved view of yours")
        }
        guard let saved = try await inbox.savedViews(for: actor.agentId).first(where: { $0.id == id }) else {
            throw APIError.unprocessable("invalid_view", "there is no saved view \(id) of yours")
        }
        var merged = try QueryString.parameters(saved.filter[...])
        for (name, value) in params where name != "view" { merged[name] = value }
        return try query(merged, actor: actor)
    }

    static func query(_ params: Parameters, actor: Caller) throws -> TicketQuery {
        var query = TicketQuery()
        if try params.single("status") == "active" {
            query.activeOnly = true
        } else {
            query.status = try params.value("status", as: TicketStatus.self)
        }
        query.channel = try params.value("channel", as: ChannelKind.self)?.rawValue
        query.priority = try params.value("priority", as: TicketPriority.self)
        query.tag = try params.single("tag").map(String.init)
        query.departmentId = try params.id("department")
        switch try params.single("agent") {
        case nil: break
        case "none": query.unassigned = true
        case "me": query.agentId = try me(actor)
        default: query.agentId = try params.id("agent")
        }
        if let view = try params.single("view").flatMap({ View(rawValue: String($0)) }) {
            switch view {
            case .unassigned: query.unassigned = true
            case .spam: query.status = .spam
            case .mine: query.agentId = try me(actor)
            case .myPending:
                query.agentId = try me(actor)
                query.status = .pending
            }
        }
        query.createdFrom = try params.single("createdFrom").map { try date($0, "createdFrom") }
        query.createdBefore = try params.single("createdBefore").map { try date($0, "createdBefore") }
        if let limit = try params.integer("limit", in: 1...200) { query.limit = Int(limit) }
        for (name, value) in params {
            if name.hasPrefix("field.") { query.ticketFields[String(name.dropFirst(6))] = String(value) }
            if name.hasPrefix("contact.") { query.contactFields[String(name.dropFirst(8))] = String(value) }
        }
        query.sort = try params.value("sort", as: TicketSort.self) ?? .newest
        query.cursor = try params.single("cursor").map(String.init)
        query.text = try params.single("q").map(String.init)
        query.contact = try params.single("contact").map(String.init)
        return query
    }

    private static func me(_ actor: Caller) throws -> Int64 {
        guard let id = actor.agentId else { throw APIError.notAnAgent("\"me\" needs an agent's token, not the admin token") }
        return id
    }

    /// An RFC 3339 date (midnight UTC) or date-time, or a 400 naming `field`.
    static func date(_ text: Substring, _ field: String) throws -> Date {
        guard let date = RFC3339.dateTime(String(text)) ?? RFC3339.date(String(text)) else {
            throw APIError.badRequest("invalid_\(field)", "\(field) must be an ISO-8601 date (2026-11-21) or date-time (2026-11-21T09:00:00Z)")
        }
        return date
    }

    /// An RFC 3339 date-time, or a 400 naming `field`.
    static func dateTime(_ text: String, _ field: String) throws -> Date {
        guard let date = RFC3339.dateTime(text) else {
            throw APIError.badRequest("invalid_\(field)", "\(field) must be an ISO-8601 date-time (2026-11-21T09:00:00Z)")
        }
        return date
    }
}
