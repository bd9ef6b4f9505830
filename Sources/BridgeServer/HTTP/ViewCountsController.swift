import Foundation
import Hummingbird
import UniversalInbox

/// `POST /api/v1/tickets/counts`: the live counts beside the views (Mine, Unassigned, each
/// department, Pending, saved views...). Each filter is a saved view's filter string, read by
/// `TicketFilter` as the list reads it, and counted under the caller's access policy.
struct ViewCountsController: Sendable {
    let inbox: Inbox

    static let maxFilters = 50
    static let maxKeyLength = 100

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("tickets/counts") { request, context in
            struct Body: Decodable {
                var filters: [String: String]
            }
            let actor = try context.requireCaller()
            let body = try await request.decode(Body.self)
            guard body.filters.count <= Self.maxFilters else {
                throw APIError.badRequest("too_many_filters", "at most \(Self.maxFilters) filters at once")
            }
            var queries: [String: TicketQuery] = [:]
            for (key, filter) in body.filters.sorted(by: { $0.key < $1.key }) {
                guard !key.isEmpty, key.unicodeScalars.count <= Self.maxKeyLength else {
                    throw APIError.badRequest("invalid_key", "a filter's key is 1 to \(Self.maxKeyLength) characters")
                }
                do {
                    var query = try await TicketFilter.query(filter: filter, actor: actor, inbox: inbox)
                    query.actor = actor
                    queries[key] = query
                } catch let error as APIError {
                    // Name the filter that was refused.
                    throw APIError(status: error.status, code: error.code, message: "filters.\(key): \(error.message)")
                }
            }
            do {
                return JSONResponse.make(CountsDTO(counts: try await inbox.countTickets(queries)))
            } catch InboxError.unprocessable(let code, let message) {
                throw APIError.unprocessable(code, "filters.\(message)")
            }
        }
    }

    struct CountsDTO: Codable {
        var counts: [String: Int]
    }
}
