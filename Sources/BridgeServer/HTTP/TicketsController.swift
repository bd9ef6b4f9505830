import ChannelKit
import Foundation
import HTTPTypes
import Hummingbird
import UniversalInbox

/// The REST API for tickets and their messages: list and filter, open, change, reply.
/// Every route checks what the calling agent may see and answer.
struct TicketsController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    let metrics: BridgeMetrics

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("tickets") { request, context in try await list(request, context) }
        group.get("tickets/:id") { _, context in try await show(context) }
        group.patch("tickets/:id") { request, context in try await change(request, context) }
        group.get("tickets/:id/messages") { request, context in try await messages(request, context) }
        group.post("tickets/:id/messages") { request, context in try await reply(request, context) }
    }

    func list(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let actor = try context.requireCaller()
        var query = try await TicketFilter.query(try request.query(), actor: actor, inbox: inbox)
        query.actor = actor
        let page = try await context.search(metrics: metrics) { [inbox, query] in try await inbox.listTickets(query) }
        return JSONResponse.make(TicketPageDTO(items: page.items, nextCursor: page.nextCursor))
    }

    func show(_ context: BridgeRequestContext) async throws -> Response {
        let (id, actor) = (try context.id(), try context.requireCaller())
        try await inbox.authorize(actor, .read, .ticket(id))
        guard var ticket = try await inbox.ticket(id: id, reader: actor.agentId) else { throw APIError.notFound("ticket \(id) does not exist") }
        ticket.replyWindows = try await inbox.replyWindows(ticketId: id)
        return JSONResponse.make(ticket)
    }

    /// `PATCH /api/v1/tickets/{id}`: status, priority, resolution reason, tags to add or remove.
    func change(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable, NullableFields {
            static var nullableFields: Set<String> { ["fields.*"] }
            var status: String?
            var priority: String?
            var resolutionReason: String?
            var addTags: [String]?
            var removeTags: [String]?
            var fields: [String: String?]?
        }
        let (id, actor) = (try context.id(), try context.requireCaller())
        let body = try await request.decode(Body.self)
        let changes = TicketChanges(
            status: try body.status.map { try parseEnum($0, as: TicketStatus.self, field: "status") },
            priority: try body.priority.map { try parseEnum($0, as: TicketPriority.self, field: "priority") },
            resolutionReason: try body.resolutionReason.map { try parseEnum($0, as: ResolutionReason.self, field: "resolutionReason") },
            addTags: body.addTags ?? [], removeTags: body.removeTags ?? [], fields: body.fields ?? [:])
        return JSONResponse.make(try await inbox.updateTicket(id, changes, by: actor))
    }

    /// The conversation: all of it without `before` and `limit` (as before paging existed), or a
    /// page of `limit` (default 50 with `before`) newest first, oldest first within the page.
    func messages(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (id, actor) = (try context.id(), try context.requireCaller())
        let params = try request.query()
        let before = try params.id("before")
        let limit = try params.integer("limit", in: 1...200)
        try await inbox.authorize(actor, .read, .ticket(id))
        guard before != nil || limit != nil else {
            guard let messages = try await inbox.messages(ticketId: id) else { throw APIError.notFound("ticket \(id) does not exist") }
            return JSONResponse.make(ItemsDTO(items: messages.map(MessageDTO.init)))
        }
        guard let page = try await inbox.messagePage(ticketId: id, before: before, limit: Int(limit ?? 50)) else {
            throw APIError.notFound("ticket \(id) does not exist")
        }
        return JSONResponse.make(MessagePageDTO(items: page.items.map(MessageDTO.init), nextBefore: page.nextBefore))
    }

    /// Queues a reply. With `version` (the ticket's version the agent saw) a ticket that changed
    /// meanwhile is refused with 409 and the newer messages, unless `force` is true. `canned`
    /// sends a canned response filled in for this ticket. Text with forbidden words is refused
    /// with 422 and the matches, unless `allowForbidden` is true.
    func reply(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (id, actor) = (try context.id(), try context.requireCaller())
        let body = try await request.decode(ReplyRequest.self)
        do {
            let message = try await ReplyComposer(inbox: inbox, registry: registry).send(body, to: id, by: actor)
            return JSONResponse.make(MessageDTO(message), status: .accepted)
        } catch let forbidden as ReplyComposer.ForbiddenWords {
            return JSONResponse.make(
                ForbiddenWordsDTO(error: .init(code: "forbidden_words", message: forbidden.message), matches: forbidden.matches), status: .unprocessableContent)
        } catch InboxError.conflict(code: "ticket_changed", message: let message) {
            let newer = try await inbox.messages(ticketId: id)?.filter { $0.id > (body.version ?? 0) } ?? []
            return JSONResponse.make(
                TicketChangedDTO(error: .init(code: "ticket_changed", message: message), newerMessages: newer.map(MessageDTO.init)), status: .conflict)
        }
    }
}

/// A page of a conversation; `nextBefore` is absent on the oldest page.
struct MessagePageDTO: Codable {
    var items: [MessageDTO]
    var nextBefore: Int64?
}

/// The 422 a reply with forbidden words gets.
struct ForbiddenWordsDTO: Encodable {
    var error: TicketChangedDTO.Detail
    var matches: [ForbiddenMatch]
}

/// The 409 a reply gets when the ticket changed after the agent looked.
struct TicketChangedDTO: Codable {
    struct Detail: Codable {
        var code: String
        var message: String
    }
    var error: Detail
    var newerMessages: [MessageDTO]
}
