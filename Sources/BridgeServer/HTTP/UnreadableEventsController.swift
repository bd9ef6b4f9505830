import Foundation
import Hummingbird
import UniversalInbox

/// `GET /api/v1/unreadable-events`: platform events that arrived in a verified webhook but could
/// not be read, kept as received with the reason (owners and admins; the raw payload holds
/// customer data).
struct UnreadableEventsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("unreadable-events") { request, context in
            _ = try context.requireSettingsManager()
            let params = request.uri.queryParameters
            var limit = 50
            if let text = params["limit"] {
                guard let n = Int(text), (1...200).contains(n) else { throw APIError.badRequest("invalid_limit", "limit must be 1 to 200") }
                limit = n
            }
            var before: Int64?
            if let text = params["before"] {
                guard let id = Int64(text), id > 0 else { throw APIError.badRequest("invalid_before", "before must be an event id") }
                before = id
            }
            return JSONResponse.make(ItemsDTO(items: try await inbox.unreadableEvents(limit: limit, before: before)))
        }
    }
}
