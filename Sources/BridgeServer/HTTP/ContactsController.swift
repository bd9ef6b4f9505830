import Foundation
import Hummingbird
import UniversalInbox

/// Contacts (a customer across channels) and downloaded attachments.
struct ContactsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("contacts/:id") { _, context in
            let id = try context.id()
            guard let contact = try await inbox.contact(id: id) else { throw APIError.notFound("contact \(id) does not exist") }
            return JSONResponse.make(contact)
        }
        group.patch("contacts/:id") { request, context in try await change(request, context) }
        group.post("contacts/:id/links") { request, context in try await link(request, context) }
        group.get("attachments/:id") { _, context in try await attachment(context) }
    }

    /// `PATCH /api/v1/contacts/{id} {"displayName", "email" (null clears), "fields": {key: value|null}}`.
    func change(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable {
            var changes = ContactChanges()
            enum Keys: String, CodingKey { case displayName, email, fields }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                changes.displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
                if container.contains(.email) {
                    changes.email = .some(try container.decodeNil(forKey: .email) ? nil : try container.decode(String.self, forKey: .email))
                }
                changes.fields = try container.decodeIfPresent([String: String?].self, forKey: .fields) ?? [:]
            }
        }
        let body = try await request.decode(Body.self)
        return JSONResponse.make(try await inbox.updateContact(try context.id(), body.changes))
    }

    /// `POST /api/v1/contacts/{id}/links {"contactId": other}`: the same customer on other channels.
    func link(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct LinkRequest: Decodable { var contactId: Int64 }
        let id = try context.id()
        let body = try await request.decode(LinkRequest.self)
        return JSONResponse.make(try await inbox.linkContacts(id, absorbing: body.contactId))
    }

    func attachment(_ context: BridgeRequestContext) async throws -> Response {
        let id = try context.id()
        guard let attachment = try await inbox.attachment(id: id) else { throw APIError.notFound("attachment \(id) does not exist") }
        if let message = try await inbox.message(id: attachment.messageId) {
            try await inbox.authorize(try context.requireActor(), ticketId: message.ticketId, for: .read)
        }
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
