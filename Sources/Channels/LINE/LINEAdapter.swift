import ChannelKit
import Foundation

/// The LINE Messaging API channel: `X-Line-Signature` webhooks, reply/push sends, content downloads.
public struct LINEAdapter: ChannelAdapter {
    public let configuration: LINEConfiguration
    public var account: ChannelAccountRef { ChannelAccountRef(kind: .line, id: configuration.id) }
    /// Push/reply/content: 2,000 requests/s per channel.
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 2000) }
    /// Reply tokens are valid for about a minute; past this age the reply goes by push.
    public static let replyTokenLifetime: TimeInterval = 50

    /// The channel secret, made ready for every webhook's signature check.
    private let signingKey: HMACSHA256Key

    public init(configuration: LINEConfiguration) {
        self.configuration = configuration
        signingKey = HMACSHA256Key(secret: configuration.channelSecret)
    }

    public var acknowledgement: WebhookResponse { .ok }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? { nil }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        guard let signature = request.header("x-line-signature"), !signature.isEmpty else {
            throw .unauthorized("missing X-Line-Signature")
        }
        guard signingKey.isValid(base64Signature: signature, body: request.body) else {
            throw .unauthorized("X-Line-Signature does not match the body")
        }
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        LINEEventMapper.events(from: try PlatformAPI.decodeWebhook(LINEWebhookPayload.self, from: request.body), body: request.body)
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        if message.context.recipientBlocked {
            return .permanent("blocked", "the customer has blocked this LINE account")
        }
        switch message.content.kind {
        case .text, .sticker: return nil
        case .image:
            guard let url = message.content.media?.url, url.hasPrefix("https://") else {
                return .permanent("unsupported_content", "LINE images must be sent as an https URL")
            }
            return nil
        default:
            return .permanent("unsupported_content", "LINE cannot send \(message.content.kind.rawValue) messages from the bridge")
        }
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        var messages = [outMessage(message.content)]
        // LINE's image message has no caption: the text goes as a text message right after it, in
        // the same request (so both or neither are sent).
        if message.content.kind == .image, let caption = message.content.text, !caption.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            messages.append(LINEOutMessage(type: "text", text: caption))
        }
        if let token = message.context.replyToken, let issued = message.context.replyTokenIssuedAt,
            message.context.now.timeIntervalSince(issued) < Self.replyTokenLifetime
        {
            let request = try PlatformAPI.jsonPost(
                configuration.apiBaseURL + "/v2/bot/message/reply", bearer: configuration.accessToken,
                body: LINEReplyBody(replyToken: token, messages: messages))
            let response = try await transport.perform(request)
            if (200..<300).contains(response.status) {
                return SendReceipt(platformMessageId: sentId(response), usedReplyToken: true)
            }
            // An expired or used token: the message still goes out, by push.
            guard response.status == 400, errorMessage(response).localizedCaseInsensitiveContains("reply token") else {
                throw error(for: response)
            }
        }
        let request = try PlatformAPI.jsonPost(
            configuration.apiBaseURL + "/v2/bot/message/push", bearer: configuration.accessToken,
            body: LINEPushBody(to: message.recipient, messages: messages),
            extraHeaders: [("X-Line-Retry-Key", message.id)])
        let response = try await transport.perform(request)
        if (200..<300).contains(response.status) {
            return SendReceipt(platformMessageId: sentId(response))
        }
        if response.status == 409 {
            // Already accepted under this retry key by an earlier attempt.
            return SendReceipt(platformMessageId: response.headers["x-line-accepted-request-id"])
        }
        throw error(for: response)
    }

    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        try PlatformAPI.checkSize(media.size, maxBytes: maxBytes)
        guard let id = media.platformId else {
            // An external provider's URL.
            guard let url = media.url else { throw SendError.permanent("no_media", "the message has no LINE content id or URL") }
            let response = try await PlatformAPI.download(url, bearer: nil, maxBytes: maxBytes, transport: transport)
            guard response.status == 200 else { throw error(for: response) }
            return DownloadedMedia(data: response.body, mimeType: response.headers["content-type"])
        }
        let base = configuration.dataAPIBaseURL + "/v2/bot/message/\(id)/content"
        if kind == .video || kind == .audio {
            // LINE converts video and audio before they can be fetched.
            let check = try await transport.perform(PlatformAPI.get(base + "/transcoding", bearer: configuration.accessToken))
            guard check.status == 200 else { throw error(for: check) }
            switch PlatformAPI.decodeAnswer(LINETranscodingAnswer.self, from: check.body)?.status {
            case "succeeded": break
            case "failed": throw SendError.permanent("transcoding_failed", "LINE could not prepare the \(kind.rawValue)")
            default: throw SendError.retryable("preparing", "LINE is still preparing the \(kind.rawValue)")
            }
        }
        let response = try await PlatformAPI.download(base, bearer: configuration.accessToken, maxBytes: maxBytes, transport: transport)
        if response.status == 202 {
            throw SendError.retryable("preparing", "LINE is still preparing the content")
        }
        guard response.status == 200 else { throw error(for: response) }
        return DownloadedMedia(data: response.body, mimeType: response.headers["content-type"])
    }

    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? {
        let response = try await transport.perform(PlatformAPI.get(configuration.apiBaseURL + "/v2/bot/profile/\(userId)", bearer: configuration.accessToken))
        guard response.status == 200 else { throw error(for: response) }
        return PlatformAPI.decodeAnswer(LINEProfileAnswer.self, from: response.body).map { ContactProfile(displayName: $0.displayName) }
    }

    private func outMessage(_ content: MessageContent) -> LINEOutMessage {
        switch content.kind {
        case .image:
            let url = content.media?.url ?? ""
            return LINEOutMessage(type: "image", originalContentUrl: url, previewImageUrl: content.media?.previewURL ?? url)
        case .sticker:
            return LINEOutMessage(type: "sticker", packageId: content.sticker?.packageId, stickerId: content.sticker?.stickerId)
        default:
            // LINE: at most 13 quick replies, labels up to 20 characters.
            let quickReply = content.choices.map { choices in
                LINEOutMessage.QuickReply(items: choices.prefix(13).map {
                    .init(action: .init(label: String($0.label.prefix(20)), data: $0.payload, displayText: $0.label))
                })
            }
            return LINEOutMessage(type: "text", text: content.text ?? "", quickReply: quickReply)
        }
    }

    private func sentId(_ response: TransportResponse) -> String? {
        PlatformAPI.decodeAnswer(LINESendAnswer.self, from: response.body)?.sentMessages?.first?.id
    }

    private func errorMessage(_ response: TransportResponse) -> String {
        PlatformAPI.decodeAnswer(LINEErrorAnswer.self, from: response.body)?.message ?? String(decoding: response.body.prefix(200), as: UTF8.self)
    }

    /// LINE errors: 429 is throttling unless it is the monthly quota; 5xx retry; 4xx permanent.
    /// `POST /v2/bot/message/broadcast` to every follower, with `X-Line-Retry-Key` (409: already
    /// accepted). LINE allows 60 broadcasts an hour; a 429 is retried with backoff.
    public func broadcastToFollowers(_ content: MessageContent, key: String, transport: any HTTPTransport) async throws -> BatchReceipt {
        try await keyedRequest("/v2/bot/message/broadcast", LINEBroadcastBody(messages: [outMessage(content)]), key: key, transport: transport)
    }

    /// A send to many under `X-Line-Retry-Key`: 409 means LINE already accepted this key.
    private func keyedRequest(_ path: String, _ body: some Encodable, key: String, transport: any HTTPTransport) async throws -> BatchReceipt {
        let request = try PlatformAPI.jsonPost(configuration.apiBaseURL + path, bearer: configuration.accessToken, body: body, extraHeaders: [("X-Line-Retry-Key", key)])
        let response = try await transport.perform(request)
        if (200..<300).contains(response.status) { return BatchReceipt(platformBatchId: response.headers["x-line-request-id"]) }
        if response.status == 409 { return BatchReceipt(platformBatchId: response.headers["x-line-accepted-request-id"], alreadyAccepted: true) }
        throw error(for: response)
    }

    func error(for response: TransportResponse) -> SendError {
        let message = errorMessage(response)
        if response.status == 429, message.localizedCaseInsensitiveContains("monthly limit") {
            return .permanent("monthly_quota", message)
        }
        return PlatformAPI.error(forStatus: response.status, reason: message, retryAfter: response.retryAfter)
    }
}

extension LINEAdapter: BatchSending, FollowerBroadcasting {
    /// Multicast: up to 500 followers per request, 200 requests/s per channel (docs/platforms.md §1).
    public var batchRecipients: ClosedRange<Int> { 1...500 }
    public var batchRateLimit: RateLimit { RateLimit(perSecond: 200) }

    /// Any follower who has not blocked the account; the content must be one LINE can send.
    public func prefersBatch(_ message: OutboundMessage) -> Bool { refusal(for: message) == nil }

    /// `POST /v2/bot/message/multicast` with `X-Line-Retry-Key`: a resend of the same batch is
    /// answered 409 (already accepted) and counts as sent.
    public func sendBatch(_ content: MessageContent, to recipients: [String], key: String, transport: any HTTPTransport) async throws -> BatchReceipt {
        try await keyedRequest("/v2/bot/message/multicast", LINEMulticastBody(to: recipients, messages: [outMessage(content)]), key: key, transport: transport)
    }
}
