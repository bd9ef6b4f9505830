import Foundation
import Hummingbird
import UniversalInbox

/// `GET /api/v1/events?after=N`: the ordered event log after position N, as the caller may read it.
/// The live WebSocket (`?after=N`) replays the same entries; this is for clients that catch up
/// over REST (integrations, a page that polls where WebSockets are blocked).
struct EventsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("events") { request, context in
            let actor = try context.requireCaller()
            let params = try request.query()
            let after = try params.integer("after", in: 0...Int64.max) ?? 0
            let limit = Int(try params.integer("limit", in: 1...1000) ?? 500)
            return JSONResponse.make(try await inbox.events(after: after, limit: limit, for: actor))
        }
    }
}
