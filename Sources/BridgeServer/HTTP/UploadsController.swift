import Foundation
import Hummingbird
import Logging

/// Images agents send from their computer: `POST /api/v1/uploads` stores one and answers the
/// public URL to reply with (`image.url`); `GET /media/{id}/{signature}` serves it to the
/// platforms, which fetch it without credentials.
struct UploadsController: Sendable {
    let store: UploadStore
    let maxBytes: Int
    /// `server.publicBaseURL`: the platforms must reach the image there, so uploads need it.
    let publicBaseURL: String?

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("uploads") { request, context in try await upload(request, context) }
    }

    func addPublicRoutes(to router: Router<BridgeRequestContext>) {
        router.get("/media/:id/:signature") { _, context in
            serve(id: context.parameters.get("id") ?? "", signature: context.parameters.get("signature") ?? "")
        }
    }

    struct Uploaded: Encodable {
        var id: String
        var url: String
        var contentType: String
        var bytes: Int
    }

    /// Checks everything it can before reading the body (publicBaseURL, type, declared length),
    /// reads at most `maxBytes`, and checks the bytes are the declared image before writing.
    func upload(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let actor = try context.requireCaller()
        guard let publicBaseURL else {
            throw APIError(
                status: .conflict, code: "no_public_url",
                message: "set server.publicBaseURL (the https address the platforms reach the bridge at): they fetch uploaded images from there")
        }
        let accepted = ImageType.allCases.map(\.rawValue).joined(separator: ", ")
        guard let type = request.headers[.contentType].flatMap(ImageType.init(contentType:)) else {
            throw APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: "send the image as the body with Content-Type \(accepted)")
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBytes {
            throw APIError.bodyTooLarge(maxBytes: maxBytes)
        }
        let data = Data(buffer: try await request.readBody(upTo: maxBytes))
        guard type.matches(data) else {
            throw APIError.unprocessable("not_an_image", "the body is not a \(type.rawValue) image (its first bytes are not that format's signature)")
        }
        let id = try store.save(data, type: type)
        context.logger.info(
            "image uploaded",
            metadata: ["upload.id": "\(id)", "upload.type": "\(type.rawValue)", "upload.bytes": "\(data.count)", "actor": "\(actor.agentId.map { "agent:\($0)" } ?? "admin")"])
        return JSONResponse.make(
            Uploaded(id: id, url: publicBaseURL + store.path(id: id), contentType: type.rawValue, bytes: data.count), status: .created)
    }

    /// Unknown id, malformed id and wrong signature all get the same 404.
    func serve(id: String, signature: String) -> Response {
        guard let (data, type) = store.read(id: id, signature: signature) else {
            return APIError(status: .notFound, code: "not_found", message: "no such media").response
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: type.rawValue, .xContentTypeOptions: "nosniff", .contentDisposition: "inline",
                .cacheControl: "public, max-age=31536000, immutable", .contentSecurityPolicy: "default-src 'none'; sandbox",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
