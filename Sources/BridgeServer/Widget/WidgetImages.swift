import ChannelKit
import Foundation
import HTTPTypes
import Hummingbird
import UniversalInbox
import WebchatChannel

/// Images on the visitor API, both ways (`WebchatImage` says how they travel).
///
/// `POST images?id=CLIENT_ID`: the body is the image itself, at most `WebchatAdapter.maxImageBytes`
/// (413 past it). Its type is what its first bytes say (PNG, JPEG, GIF or WebP), never the file's
/// name or the type the browser guessed (415 otherwise). Counted as a message by the visitor's and
/// the address's limits (429). Refused, it leaves nothing behind.
///
/// `GET messages/{messageId}/image`: an image of the visitor's own conversation, by the visitor's
/// token (404 for any other message, so another visitor's ids tell nothing). The widget fetches
/// it with the header and shows a `blob:` URL (an `<img>` cannot send the header). A token-checked
/// endpoint rather than a signed link: a link would work for whoever it leaked to (a screenshot,
/// a log, a shared device) for as long as it lived, and the widget has the token anyway.
/// Served as the image type its bytes are, `nosniff`, and a sandboxing policy: never as a page.
extension WidgetController {
    func postImage(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await visitor(request, context)
        guard let id = request.uri.queryParameters.get("id"), !id.isEmpty else {
            throw APIError.badRequest("invalid_message", "id (the widget's id of the message) is required")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let incoming = WebhookRequest(method: "POST", headers: headers, receivedAt: clock())
        // What can be checked without the body is, before anything is counted, read or kept.
        do {
            _ = try adapter.imageEvent(incoming, id: id, storedId: "", mimeType: "", size: 0)
        } catch {
            throw APIError(status: .badRequest, code: "invalid_message", message: error.message)
        }
        let most = WebchatAdapter.maxImageBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > most { throw APIError.bodyTooLarge(maxBytes: most) }
        do {
            try throttle.image(visitorId: visitorId, address: clientAddress(request, context))
            try throttle.message(visitorId: visitorId, address: clientAddress(request, context))
        } catch {
            throw Self.limited(error)
        }
        let data = Data(buffer: try await request.readBody(upTo: most))
        guard let type = ImageType.allCases.first(where: { $0.matches(data) }) else {
            metrics.webhook(channel: "webchat", outcome: "malformed")
            throw APIError(status: .unsupportedMediaType, code: "not_an_image", message: "the file is not a PNG, JPEG, GIF or WebP image")
        }
        let storedId = try uploads.save(data, type: type)
        let result: IngestResult
        do {
            let event = try adapter.imageEvent(incoming, id: id, storedId: storedId, mimeType: type.rawValue, size: data.count)
            result = try await inbox.ingest([event], from: adapter.account)
            try? await VisitorTyping(inbox: inbox, clock: clock).stopped(account: adapter.account.key, visitorId: visitorId)
        } catch {
            uploads.remove(id: storedId)
            context.logger.error("widget image not stored", metadata: ["error": "\(error)"])
            throw APIError(status: .serviceUnavailable, code: "not_stored", message: "the image was not stored; send it again")
        }
        // A retried post is filed once: the copy kept for it is not needed.
        if result.duplicates > 0 { uploads.remove(id: storedId) }
        metrics.webhook(channel: "webchat", outcome: "accepted")
        metrics.events(channel: "webchat", outcome: "stored", count: result.stored)
        metrics.events(channel: "webchat", outcome: "duplicate", count: result.duplicates)
        return JSONResponse.make(["accepted": true, "duplicate": result.duplicates > 0], status: .accepted)
    }

    private enum VisitorImage {
        case file(Data, ImageType)
        /// Being copied into the attachment store, and the kept bytes already let go.
        case copying
        case missing
    }

    /// A visitor's own image: from the attachment store once the follow-up worker copied it there;
    /// until then the bytes this API kept for the copy, so the visitor sees it at once.
    private static func visitorImage(_ message: StoredMessage, uploads: UploadStore) -> VisitorImage {
        guard let attachment = message.attachments.first else { return .missing }
        switch attachment.status {
        case .pending:
            guard let id = message.content.media?.platformId, let kept = uploads.stored(id: id) else { return .copying }
            return .file(kept.data, kept.type)
        case .failed:
            return .missing
        case .stored:
            guard let path = attachment.path, let data = FileManager.default.contents(atPath: path),
                let type = attachment.mimeType.flatMap(ImageType.init(contentType:)), type.matches(data)
            else { return .missing }
            return .file(data, type)
        }
    }

    func image(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await limitedVisitor(request, context)
        let missing = APIError(status: .notFound, code: "not_found", message: "no such image in this conversation")
        guard let messageId = context.parameters.get("messageId").flatMap(Int64.init),
            let message = try await inbox.visitorMessages(account: adapter.account.key, visitorId: visitorId, ids: [messageId]).first,
            message.content.kind == .image
        else { throw missing }
        let file: (data: Data, type: ImageType)
        if message.direction == .inbound {
            var image = Self.visitorImage(message, uploads: uploads)
            // Copied between reading the message and reading the kept bytes: read once more.
            if case .copying = image,
                let again = try await inbox.visitorMessages(account: adapter.account.key, visitorId: visitorId, ids: [messageId]).first
            {
                image = Self.visitorImage(again, uploads: uploads)
            }
            switch image {
            case .file(let data, let type): file = (data, type)
            case .copying: throw APIError(status: .conflict, code: "not_ready", message: "the image is still being stored; ask again in a moment")
            case .missing: throw missing
            }
        } else {
            guard let link = WebchatAdapter.uploadLink(message.content.media?.url), let stored = uploads.read(id: link.id, signature: link.signature) else {
                throw missing
            }
            file = stored
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: file.type.rawValue, .xContentTypeOptions: "nosniff", .contentDisposition: "inline",
                .cacheControl: "private, no-store", .contentSecurityPolicy: "default-src 'none'; sandbox",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: file.data)))
    }
}
