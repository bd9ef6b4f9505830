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
            let params = try request.query()
            let limit = Int(try params.integer("limit", in: 1...200) ?? 50)
            return JSONResponse.make(ItemsDTO(items: try await inbox.unreadableEvents(limit: limit, before: try params.id("before"))))
        }
    }
}
