import ChannelKit
import Foundation
import HTTPTypes
import Hummingbird
import UniversalInbox

/// The REST API agents and integrations use: tickets, messages, replies, contacts, attachments.
struct TicketsController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    let maxRequestBytes = 256 << 10

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("tickets") { request, _ in try await list(request) }
        group.get("tickets/:id") { _, context in try await show(context) }
        group.patch("tickets/:id") { request, context in try await changeStatus(request, context) }
        group.get("tickets/:id/messages") { _, context in try await messages(context) }
        group.post("tickets/:id/messages") { request, context in try await reply(request, context) }
        group.get("contacts/:id") { _, context in try await contact(context) }
        group.post("contacts/:id/links") { request, context in try await link(request, context) }
        group.get("attachments/:id") { _, context in try await attachment(context) }
    }

    private func id(_ context: BasicRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("invalid_id", "ids are positive whole numbers")
        }
        return id
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: maxRequestBytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw APIError.badRequest("invalid_json", "the body is not the JSON this endpoint takes: \(error.localizedDescription)")
        }
    }

    func list(_ request: Request) async throws -> Response {
        let params = request.uri.queryParameters
        var query = TicketQuery()
        if let status = params["status"] {
            guard let s = TicketStatus(rawValue: String(status)) else {
                throw APIError.badRequest("invalid_status", "status must be one of \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = s
        }
        if let channel = params["channel"] {
            guard ChannelKind(rawValue: String(channel)) != nil else {
                throw APIError.badRequest("invalid_channel", "channel must be one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.channel = String(channel)
        }
        if let limit = params["limit"] {
            guard let n = Int(limit), (1...200).contains(n) else { throw APIError.badRequest("invalid_limit", "limit must be 1 to 200") }
            query.limit = n
        }
        query.cursor = params["cursor"].map(String.init)
        query.text = params["q"].map(String.init)
        query.contact = params["contact"].map(String.init)
        let page = try await inbox.listTickets(query)
        return JSONResponse.make(TicketPageDTO(items: page.items, nextCursor: page.nextCursor))
    }

    func show(_ context: BasicRequestContext) async throws -> Response {
        let id = try id(context)
        guard let ticket = try await inbox.ticket(id: id) else { throw APIError.notFound("ticket \(id) does not exist") }
        return JSONResponse.make(ticket)
    }

    func changeStatus(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try id(context)
        let change = try await decode(StatusChangeRequest.self, request)
        guard let status = TicketStatus(rawValue: change.status) else {
            throw APIError.badRequest("invalid_status", "status must be one of \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return JSONResponse.make(try await inbox.setStatus(ticketId: id, to: status))
    }

    func messages(_ context: BasicRequestContext) async throws -> Response {
        let id = try id(context)
        guard let messages = try await inbox.messages(ticketId: id) else { throw APIError.notFound("ticket \(id) does not exist") }
        return JSONResponse.make(ItemsDTO(items: messages.map(MessageDTO.init)))
    }

    func reply(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try id(context)
        let body = try await decode(ReplyRequest.self, request)
        let content = try body.content()
        if let channel = body.channel, ChannelKind(rawValue: channel) == nil {
            throw APIError.badRequest("invalid_channel", "channel must be one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let registry = self.registry
        let message = try await inbox.queueReply(ticketId: id, content: content, channel: body.channel) { target in
            registry.refusal(for: target)
        }
        return JSONResponse.make(MessageDTO(message), status: .accepted)
    }

    func contact(_ context: BasicRequestContext) async throws -> Response {
        let id = try id(context)
        guard let contact = try await inbox.contact(id: id) else { throw APIError.notFound("contact \(id) does not exist") }
        return JSONResponse.make(contact)
    }

    /// `POST /api/v1/contacts/{id}/links {"contactId": other}`: the same customer on other channels.
    func link(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        struct LinkRequest: Decodable { var contactId: Int64 }
        let id = try id(context)
        let body = try await decode(LinkRequest.self, request)
        return JSONResponse.make(try await inbox.linkContacts(id, absorbing: body.contactId))
    }

    func attachment(_ context: BasicRequestContext) async throws -> Response {
        let id = try id(context)
        guard let attachment = try await inbox.attachment(id: id) else { throw APIError.notFound("attachment \(id) does not exist") }
        switch attachment.status {
        case .pending:
            throw APIError(status: .conflict, code: "not_ready", message: "attachment \(id) is still being downloaded from the platform")
        case .failed:
            throw APIError(status: .unprocessableContent, code: "download_failed", message: attachment.failureReason ?? "download failed")
        case .stored:
            guard let path = attachment.path, let data = FileManager.default.contents(atPath: path) else {
                throw APIError(status: .gone, code: "file_missing", message: "attachment \(id) is no longer on disk")
            }
            return Response(
                status: .ok, headers: [.contentType: attachment.mimeType ?? "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
