import Foundation
import Hummingbird
import UniversalInbox

/// Working a ticket beside its messages: keep (claim), transfer, history, internal notes, read marks,
/// and the distribution queue.
struct AssignmentController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("tickets/:id/claim") { _, context in
            JSONResponse.make(try await inbox.claim(ticketId: try context.id(), by: try context.requireCaller()))
        }
        group.post("tickets/:id/transfer") { request, context in try await transfer(request, context) }
        group.get("tickets/:id/history") { _, context in
            let id = try await readable(context)
            guard let history = try await inbox.history(ticketId: id) else { throw APIError.notFound("ticket \(id) does not exist") }
            return JSONResponse.make(ItemsDTO(items: history))
        }
        group.get("tickets/:id/notes") { _, context in
            let id = try await readable(context)
            guard let notes = try await inbox.notes(ticketId: id) else { throw APIError.notFound("ticket \(id) does not exist") }
            return JSONResponse.make(ItemsDTO(items: notes))
        }
        group.post("tickets/:id/notes") { request, context in
            struct Body: Decodable { var text: String }
            let body = try await request.decode(Body.self)
            return JSONResponse.make(try await inbox.addNote(ticketId: try context.id(), text: body.text, by: try context.requireCaller()), status: .created)
        }
        group.put("tickets/:id/read") { _, context in
            JSONResponse.make(try await inbox.markRead(ticketId: try context.id(), true, by: try context.requireCaller()))
        }
        group.delete("tickets/:id/read") { _, context in
            JSONResponse.make(try await inbox.markRead(ticketId: try context.id(), false, by: try context.requireCaller()))
        }
        group.get("queue") { _, context in
            let actor = try context.requireCaller()
            let visible = try await inbox.queue().filter { actor.may(.read, assignedTo: nil, department: $0.departmentId) }
            return JSONResponse.make(ItemsDTO(items: visible))
        }
    }

    /// `POST /api/v1/tickets/{id}/transfer {"agentId", "departmentId", "note"}`.
    func transfer(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable {
            var agentId: Int64?
            var departmentId: Int64?
            var note: String?
        }
        let body = try await request.decode(Body.self)
        return JSONResponse.make(
            try await inbox.transfer(
                ticketId: try context.id(), to: TransferTarget(agentId: body.agentId, departmentId: body.departmentId), note: body.note,
                by: try context.requireCaller()))
    }

    private func readable(_ context: BridgeRequestContext) async throws -> Int64 {
        let id = try context.id()
        try await inbox.authorize(try context.requireCaller(), .read, .ticket(id))
        return id
    }
}
