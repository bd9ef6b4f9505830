import Foundation
import Hummingbird
import UniversalInbox

/// Contacts (a customer across channels) and downloaded attachments.
struct ContactsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("contacts/:id") { _, context in
            let (id, actor) = (try context.id(), try context.requireCaller())
            try await inbox.authorize(actor, .read, .contact(id))
            guard var contact = try await inbox.contact(id: id) else { throw APIError.notFound("contact \(id) does not exist") }
            contact.ratings = try await inbox.answeredRatings(contactId: id, readableBy: actor)
            contact.ticketAccess = try await inbox.ticketAccess(contactId: id, for: actor)
            return JSONResponse.make(contact)
        }
        group.patch("contacts/:id") { request, context in try await change(request, context) }
        group.post("contacts/:id/links") { request, context in try await link(request, context) }
        group.get("attachments/:id") { _, context in try await attachment(context) }
    }

    /// `PATCH /api/v1/contacts/{id} {"displayName", "email" (null clears), "fields": {key: value|null},
    /// "addTags", "removeTags"}`.
    func change(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable, NullableFields {
            static var nullableFields: Set<String> { ["email", "fields.*"] }
            var changes = ContactChanges()
            enum Keys: String, CodingKey { case displayName, email, fields, addTags, removeTags }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                changes.displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
                if container.contains(.email) {
                    changes.email = .some(try container.decodeNil(forKey: .email) ? nil : try container.decode(String.self, forKey: .email))
                }
                changes.fields = try container.decodeIfPresent([String: String?].self, forKey: .fields) ?? [:]
                changes.addTags = try container.decodeIfPresent([String].self, forKey: .addTags) ?? []
                changes.removeTags = try container.decodeIfPresent([String].self, forKey: .removeTags) ?? []
            }
        }
        let id = try context.id()
        try await inbox.authorize(try context.requireCaller(), .answer, .contact(id))
        let body = try await request.decode(Body.self)
        return JSONResponse.make(try await inbox.updateContact(id, body.changes))
    }

    /// `POST /api/v1/contacts/{id}/links {"contactId": other}`: the same customer on other channels.
    /// Linking moves every ticket of `other` to `id`: the actor must be able to answer both.
    func link(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct LinkRequest: Decodable { var contactId: Int64 }
        let (id, actor) = (try context.id(), try context.requireCaller())
        let body = try await request.decode(LinkRequest.self)
        try await inbox.authorize(actor, .answer, .contact(id))
        try await inbox.authorize(actor, .answer, .contactHistory(body.contactId))
        return JSONResponse.make(try await inbox.linkContacts(id, absorbing: body.contactId))
    }

    /// Attachments are the customer's bytes: served so that a browser never runs them. Only raster
    /// images that browsers cannot execute are shown inline; everything else is a download, and
    /// every answer is sandboxed and never sniffed.
    func attachment(_ context: BridgeRequestContext) async throws -> Response {
        let id = try context.id()
        try await inbox.authorize(try context.requireCaller(), .read, .attachment(id))
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
                status: .ok, headers: AttachmentHeaders.headers(mimeType: attachment.mimeType, fileName: attachment.fileName, id: id),
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}

/// The headers an attachment is served with.
enum AttachmentHeaders {
    /// Raster formats every browser decodes as an image and never as a document or script.
    static let inlineTypes: Set<String> = ["image/jpeg", "image/png", "image/gif", "image/webp"]

    static func headers(mimeType: String?, fileName: String?, id: Int64) -> HTTPFields {
        let type = (mimeType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let inline = inlineTypes.contains(type)
        var fields = HTTPFields()
        fields[.contentType] = inline ? type : "application/octet-stream"
        fields[.contentDisposition] = (inline ? "inline" : "attachment") + "; filename=\"\(safeName(fileName, id: id))\""
        fields[.xContentTypeOptions] = "nosniff"
        fields[.contentSecurityPolicy] = "sandbox; default-src 'none'"
        return fields
    }

    /// A file name with only characters that cannot break out of the header's quotes.
    static func safeName(_ name: String?, id: Int64) -> String {
        let kept = (name ?? "").unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" && $0 != "/" && $0.value != 0x7F }
        let text = String(String.UnicodeScalarView(kept)).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "attachment-\(id)" : String(text.prefix(120))
    }
}
