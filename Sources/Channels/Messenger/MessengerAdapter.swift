import ChannelKit
import Foundation

/// Messenger and Instagram through the Messenger Platform: `hub.*` handshake and
/// `X-Hub-Signature-256` webhooks, the Send API with `RESPONSE` inside 24 hours and the
/// `HUMAN_AGENT` tag up to 7 days, CDN media copied at once, names from the User Profile API.
public struct MessengerAdapter: ChannelAdapter {
    public let configuration: MessengerConfiguration
    public var account: ChannelAccountRef { ChannelAccountRef(kind: configuration.kind, id: configuration.id) }
    /// Send API: 300 calls/s per Page (or Instagram account) for text.
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 300) }
    public static let standardWindow: TimeInterval = ReplyWindow.messenger.window
    public static let humanAgentWindow: TimeInterval = ReplyWindow.messenger.humanAgentWindow ?? 0

    /// The app secret, made ready for every webhook's signature check.
    private let signingKey: HMACSHA256Key

    public init(configuration: MessengerConfiguration) {
        self.configuration = configuration
        signingKey = HMACSHA256Key(secret: configuration.appSecret)
    }

    public var acknowledgement: WebhookResponse { WebhookResponse(status: 200, body: "EVENT_RECEIVED") }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? {
        try MetaGraph.handshake(request, verifyToken: configuration.verifyToken)
    }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        try MetaGraph.verify(request, signingKey: signingKey)
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        let payload = try PlatformAPI.decodeWebhook(MessengerWebhookPayload.self, from: request.body)
        guard payload.object == configuration.webhookObject else {
            throw .malformed("object is \(payload.object), expected \(configuration.webhookObject)")
        }
        return MessengerEventMapper.events(from: payload, body: request.body, receivedAt: request.receivedAt)
    }

    /// How a message may go now: `RESPONSE` within 24 hours of the customer's last message,
    /// `MESSAGE_TAG`/`HUMAN_AGENT` up to 7 days, nothing after.
    /// Message tags a broadcast may carry outside the 24-hour window (non-promotional updates).
    public static let broadcastTags: Set<String> = ["CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"]

    func messagingType(_ context: ConversationContext) -> (type: String, tag: String?)? {
        let age = context.lastInboundAt.map { context.now.timeIntervalSince($0) }
        switch context.purpose {
        case .reply:
            guard let age else { return nil }
            if age < Self.standardWindow { return ("RESPONSE", nil) }
            if age < Self.humanAgentWindow { return ("MESSAGE_TAG", "HUMAN_AGENT") }
            return nil
        case .broadcast(let tag):
            // HUMAN_AGENT is for a person's reply, never for a campaign.
            if let age, age < Self.standardWindow { return ("UPDATE", nil) }
            if let tag, Self.broadcastTags.contains(tag) { return ("MESSAGE_TAG", tag) }
            return nil
        }
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        let name = configuration.kind == .instagram ? "Instagram" : "Messenger"
        guard messagingType(message.context) != nil else {
            if case .broadcast = message.context.purpose {
                return .permanent(
                    "outside_window",
                    "\(name) allows campaign messages within 24 hours of the customer's last message, or later only with a non-promotional message tag (\(Self.broadcastTags.sorted().joined(separator: ", ")))")
            }
            return .permanent(
                "outside_window",
                "\(name) allows replies within 24 hours of the customer's last message, and by a human agent (HUMAN_AGENT tag) within 7 days; that time has passed")
        }
        switch message.content.kind {
        case .text: return nil
        case .image:
            return message.content.media?.url?.hasPrefix("http") == true ? nil : .permanent("unsupported_content", "\(name) images must be sent as a URL")
        default:
            return .permanent("unsupported_content", "\(name) cannot send \(message.content.kind.rawValue) messages from the bridge")
        }
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        guard let (type, tag) = messagingType(message.context) else { throw SendError.permanent("outside_window", "outside the messaging window") }
        let content: MessengerSendBody.Message
        if message.content.kind == .image, let url = message.content.media?.url {
            content = .init(attachment: .init(type: "image", payload: .init(url: url, is_reusable: true)))
        } else {
            content = .init(
                text: message.content.text ?? "",
                quick_replies: message.content.choices.map { $0.prefix(13).map { .init(title: String($0.label.prefix(20)), payload: $0.payload) } })
        }
        let request = try PlatformAPI.jsonPost(
            "\(configuration.graphURL)/\(configuration.pageId)/messages", bearer: configuration.pageAccessToken,
            body: MessengerSendBody(recipient: .init(message.recipient), messaging_type: type, tag: tag, message: content))
        let response = try await transport.perform(request)
        guard (200..<300).contains(response.status) else { throw error(for: response) }
        return SendReceipt(platformMessageId: PlatformAPI.decodeAnswer(MessengerSendAnswer.self, from: response.body)?.message_id)
    }

    /// Attachment URLs are unauthenticated CDN links that expire: fetched as they are.
    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        guard let url = media.url else { throw SendError.permanent("no_media", "the attachment has no URL") }
        let response = try await PlatformAPI.download(url, bearer: nil, maxBytes: maxBytes, transport: transport)
        guard response.status == 200 else {
            // An expired CDN link will not come back.
            throw response.status >= 500 ? SendError.retryable("http_\(response.status)", "media host failed") : SendError.permanent("http_\(response.status)", "media link no longer available")
        }
        return DownloadedMedia(data: response.body, mimeType: response.headers["content-type"])
    }

    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? {
        let fields = configuration.kind == .instagram ? "name,username" : "first_name,last_name"
        let response = try await transport.perform(PlatformAPI.get("\(configuration.graphURL)/\(userId)?fields=\(fields)", bearer: configuration.pageAccessToken))
        guard response.status == 200 else { throw error(for: response) }
        return PlatformAPI.decodeAnswer(MessengerProfileAnswer.self, from: response.body)?.displayName.map(ContactProfile.init)
    }

    /// Send API errors by code (docs/platforms.md §3).
    func error(for response: TransportResponse) -> SendError {
        guard let answer = MetaGraph.error(in: response), let code = answer.code else {
            return PlatformAPI.error(forStatus: response.status, reason: "HTTP \(response.status)", retryAfter: response.retryAfter)
        }
        let text = answer.text
        switch (code, answer.error_subcode) {
        case (1200, _), (2, _), (4, _), (32, _), (613, _):
            return .retryable("meta_\(code)", text, after: response.retryAfter)
        case (10, 2018278):
            return .permanent("outside_window", "the messaging window has closed: \(text)")
        case (551, _):
            return .permanent("meta_551", "the customer is not available (blocked the Page or left): \(text)")
        case (100, 2018001):
            return .permanent("meta_100", "no such customer: \(text)")
        case (190, _):
            return .permanent("meta_190", "the Page access token is invalid or expired: \(text)")
        default:
            return response.status >= 500 ? .retryable("meta_\(code)", text, after: response.retryAfter) : .permanent("meta_\(code)", text)
        }
    }
}
