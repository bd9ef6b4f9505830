import Foundation
import Hummingbird
import UniversalInbox

/// Operations that reshape tickets: merge, split, spam and restore.
struct TicketActionsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("tickets/:id/merge") { request, context in
            struct Body: Decodable { var ticketIds: [Int64] }
            let body = try await request.decode(Body.self)
            return JSONResponse.make(try await inbox.merge(body.ticketIds, into: try context.id(), by: try context.requireCaller()))
        }
        group.post("tickets/:id/split") { request, context in
            struct Body: Decodable { var messageIds: [Int64] }
            let body = try await request.decode(Body.self)
            return JSONResponse.make(
                try await inbox.split(ticketId: try context.id(), messageIds: body.messageIds, by: try context.requireCaller()), status: .created)
        }
        group.post("tickets/:id/spam") { _, context in
            JSONResponse.make(try await inbox.markSpam(ticketId: try context.id(), true, by: try context.requireCaller()))
        }
        group.delete("tickets/:id/spam") { _, context in
            JSONResponse.make(try await inbox.markSpam(ticketId: try context.id(), false, by: try context.requireCaller()))
        }
    }
}
