import ChannelKit
import Foundation

/// The website chat widget as a channel: a visitor's post to the visitor API is its "webhook"
/// (verified by the visitor token instead of a platform's signature, parsed into the same
/// `InboundEvent`s every channel makes), and an agent's reply (text, or an image uploaded to the
/// bridge: `WebchatImage`) needs no platform call: it is in the store once queued, and the
/// visitor's live feed delivers it, so `send` only names it.
///
/// The token authenticates the visitor, not the body: a visitor may post anything as themselves,
/// and only as themselves. The post's `id` (made by the widget, kept across its retries), under the
/// visitor's id, is the event id, so a retried post files the message once.
public struct WebchatAdapter: ChannelAdapter {
    public let configuration: WebchatConfiguration
    public var account: ChannelAccountRef { ChannelAccountRef(kind: .webchat, id: configuration.id) }
    /// No platform to be polite to: the limit only keeps a flood of replies from one account in check.
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 100, burst: 200) }
    /// The header the widget sends its visitor token in (agents' `Authorization` stays theirs).
    public static let tokenHeader = "X-Visitor-Token"
    /// The longest message a visitor may send, in characters.
    public static let maxTextLength = 4000
    /// The longest client id of a message.
    public static let maxIdLength = 64
    /// Prefix of the ids `send` gives replies (what the widget reports receipts with).
    public static let messageIdPrefix = "wc-"

    public init(configuration: WebchatConfiguration) {
        self.configuration = configuration
    }

    public var acknowledgement: WebhookResponse {
        WebhookResponse(status: 202, contentType: "application/json", body: #"{"accepted":true}"#)
    }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? { nil }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        _ = try visitorId(request)
    }

    /// The visitor a request's token names, when it holds.
    public func visitorId(_ request: WebhookRequest) throws(WebhookError) -> String {
        guard let token = request.header(Self.tokenHeader), !token.isEmpty else { throw .unauthorized("missing \(Self.tokenHeader)") }
        guard let visitorId = VisitorToken.visitorId(in: token, secret: configuration.visitorSecret) else {
            throw .unauthorized("\(Self.tokenHeader) is not a visitor token of this account")
        }
        return visitorId
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        guard !request.body.isEmpty else { throw .malformed("empty body") }
        let visitorId = try visitorId(request)
        let post: WebchatPost
        do {
            post = try JSONDecoder().decode(WebchatPost.self, from: request.body)
        } catch is DecodingError {
            throw .malformed((try? JSONSerialization.jsonObject(with: request.body)) == nil ? "body is not valid JSON" : "body is not a widget post")
        } catch {
            throw .malformed("body is not valid JSON")
        }
        return ParsedWebhook(events: [try post.event(visitorId: visitorId, receivedAt: request.receivedAt)])
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        switch message.content.kind {
        case .text:
            return message.content.textWithNumberedChoices.count > Self.maxTextLength
                ? .permanent("text_too_long", "widget messages are limited to \(Self.maxTextLength) characters") : nil
        case .image:
            // The visitor's browser fetches it from the bridge (`uploadLink`), never from elsewhere.
            guard Self.uploadLink(message.content.media?.url) != nil else {
                return .permanent("unsupported_content", "the website widget shows only images uploaded to the bridge (POST /api/v1/uploads)")
            }
            return (message.content.text ?? "").count > Self.maxTextLength
                ? .permanent("text_too_long", "widget messages are limited to \(Self.maxTextLength) characters") : nil
        default:
            return .permanent("unsupported_content", "the website widget cannot show \(message.content.kind.rawValue) messages yet")
        }
    }

    /// Nothing to call: the reply is stored and the visitor's feed shows it. The id names it for
    /// the receipts the widget sends when it showed and read it.
    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        return SendReceipt(platformMessageId: Self.messageIdPrefix + message.id)
    }

    /// A visitor's image is in the bridge's own store already: the follow-up worker copies it from
    /// there (`WebchatImage`); there is nothing on a platform to download.
    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        throw SendError.permanent("no_media", "a visitor's image is copied from the bridge's own store, not downloaded")
    }

    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? { nil }
}

/// What the widget posts: a message (`{"id","text","name"?}`) or a receipt for a reply it showed
/// or the visitor read (`{"type":"receipt","id","messageId","status":"delivered"|"read"}`).
struct WebchatPost: Decodable {
    var type: String?
    var id: String
    var text: String?
    var name: String?
    var messageId: String?
    var status: String?

    func event(visitorId: String, receivedAt: Date) throws(WebhookError) -> InboundEvent {
        guard !id.isEmpty, id.count <= WebchatAdapter.maxIdLength,
            id.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else { throw .malformed("id must be 1 to \(WebchatAdapter.maxIdLength) letters, digits, - or _") }
        // The widget makes the id; kept per visitor, so one visitor's ids never stop another's message.
        let eventId = "\(visitorId):\(id)"
        let sender = Sender(id: visitorId, displayName: name.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : String($0.prefix(100)) })
        switch type ?? "message" {
        case "message":
            guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .malformed("text is required") }
            guard text.count <= WebchatAdapter.maxTextLength else { throw .malformed("text is longer than \(WebchatAdapter.maxTextLength) characters") }
            return InboundEvent(
                kind: .message, eventId: eventId, occurredAt: receivedAt, sender: sender, message: InboundMessage(id: eventId, content: .text(text)))
        case "receipt":
            guard let messageId, messageId.hasPrefix(WebchatAdapter.messageIdPrefix) else { throw .malformed("messageId must name a reply the widget showed") }
            guard let status, status == "delivered" || status == "read" else { throw .malformed("status must be delivered or read") }
            return InboundEvent(
                kind: .receipt, eventId: eventId, occurredAt: receivedAt, sender: sender,
                receipt: DeliveryReceipt(messageId: messageId, status: status == "read" ? .read : .delivered))
        default:
            throw .malformed("type must be message or receipt")
        }
    }
}
