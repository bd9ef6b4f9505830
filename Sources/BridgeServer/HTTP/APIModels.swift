import ChannelKit
import Foundation
import UniversalInbox

/// A message as the REST API shows it (local file paths replaced by download URLs). Decodable for
/// the tests' API client.
struct MessageDTO: Codable {
    var id: Int64
    var ticketId: Int64
    var direction: String
    var channel: String
    var account: String
    var text: String
    var content: MessageContent
    var status: String
    /// The platform's id for the message (outbound: once sent).
    var platformMessageId: String?
    /// SMS parts of an outbound SMS.
    var segments: MessageSegments?
    var failure: Failure?
    /// Who wrote an outbound message: `agent:<id>`, `slack:<name>`, `system`.
    var author: String?
    var attachments: [Attachment]
    var createdAt: Date
    var updatedAt: Date

    struct Failure: Codable {
        var code: String?
        var reason: String?
    }

    struct Attachment: Codable {
        var id: Int64
        var status: String
        var mimeType: String?
        var size: Int?
        var fileName: String?
        var url: String
        var failureReason: String?
    }

    init(_ m: StoredMessage) {
        id = m.id
        ticketId = m.ticketId
        direction = m.direction.rawValue
        channel = m.channel
        account = m.account
        text = m.text
        content = m.content
        status = m.status
        platformMessageId = m.platformMessageId
        segments = m.segments
        failure = (m.failureCode != nil || m.failureReason != nil) ? Failure(code: m.failureCode, reason: m.failureReason) : nil
        author = m.author
        attachments = m.attachments.map {
            Attachment(
                id: $0.id, status: $0.status.rawValue, mimeType: $0.mimeType, size: $0.size, fileName: $0.fileName,
                url: "/api/v1/attachments/\($0.id)", failureReason: $0.failureReason)
        }
        createdAt = m.createdAt
        updatedAt = m.updatedAt
    }
}

struct ItemsDTO<Item: Encodable>: Encodable {
    var items: [Item]
}

extension ItemsDTO: Decodable where Item: Decodable {}

struct TicketPageDTO: Codable {
    var items: [TicketSummary]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)  // null on the last page, never absent
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }
}

/// `POST /api/v1/tickets/{id}/messages`: text, an image by URL (with optional caption), or a template.
struct ReplyRequest: Decodable, Sendable {
    /// Another of the customer's channels to answer on (default: the one they last wrote on).
    var channel: String?
    var text: String?
    var image: Image?
    var template: Template?
    /// The ticket version the agent saw (its newest message id); see `force`.
    var version: Int64?
    /// Send even if the ticket has newer messages than `version`.
    var force: Bool?
    /// A canned response's `#shortcut`, sent filled in for the ticket.
    var canned: String?
    /// Send even though the text has forbidden words.
    var allowForbidden: Bool?

    struct Image: Decodable {
        var url: String
        var previewUrl: String?
    }

    static let maxTextLength = 4096

    /// What can be checked without the ticket: the channel's name, and either a canned response
    /// alone or content (`content()`).
    func check() throws {
        if let channel { _ = try parseEnum(channel, as: ChannelKind.self, field: "channel") }
        if canned == nil {
            _ = try content()
        } else if text != nil || template != nil || image != nil {
            throw APIError.unprocessable("invalid_request", "send canned or text/image/template, not both")
        }
    }

    func content() throws -> MessageContent {
        let kinds = [image != nil, template != nil].filter { $0 }.count
        guard kinds <= 1 else { throw APIError.unprocessable("invalid_request", "send one of image or template, not both") }
        if let template {
            guard !template.name.isEmpty, !template.language.isEmpty else {
                throw APIError.badRequest("invalid_request", "template needs a name and a language")
            }
            return MessageContent(kind: .template, template: template)
        }
        if let text, TextRules.length(text) > Self.maxTextLength {
            throw APIError.badRequest("text_too_long", "text is limited to \(Self.maxTextLength) characters")
        }
        if let image {
            guard let url = URL(string: image.url), url.scheme == "https" || url.scheme == "http" else {
                throw APIError.unprocessable("invalid_request", "image.url must be an http(s) URL")
            }
            return MessageContent(kind: .image, text: text, media: MediaReference(url: image.url, previewURL: image.previewUrl))
        }
        guard let text, !TextRules.isBlank(text) else {
            throw APIError.unprocessable("invalid_request", "send a non-empty \"text\", an \"image\" or a \"template\"")
        }
        return .text(text)
    }
}

