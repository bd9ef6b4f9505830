import ChannelKit

import Foundation

/// The WhatsApp Business Cloud API channel: `X-Hub-Signature-256` webhooks with the `hub.*`
/// handshake, sends within the 24-hour window or by template, two-step media downloads.
public struct WhatsAppAdapter: ChannelAdapter {
    public let configuration: WhatsAppConfiguration
    public var account: ChannelAccountRef { ChannelAccountRef(kind: .whatsapp, id: configuration.id) }
    /// 80 messages/s per number.
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 80) }
    /// Free-form messages are allowed this long after the customer's last message.
    public static let serviceWindow: TimeInterval = ReplyWindow.whatsapp.window

    /// The app secret, made ready for every webhook's signature check.
    private let signingKey: HMACSHA256Key

    public init(configuration: WhatsAppConfiguration) {
        self.configuration = configuration
        signingKey = HMACSHA256Key(secret: configuration.appSecret)
    }

    public var acknowledgement: WebhookResponse { .ok }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? {
        try MetaGraph.handshake(request, verifyToken: configuration.verifyToken)
    }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        try MetaGraph.verify(request, signingKey: signingKey)
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        let payload = try PlatformAPI.decodeWebhook(WhatsAppWebhookPayload.self, from: request.body)
        return try WhatsAppEventMapper.events(from: payload, body: request.body, phoneNumberId: configuration.phoneNumberId)
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        switch message.content.kind {
        case .template:
            guard let t = message.content.template, !t.name.isEmpty, !t.language.isEmpty else {
                return .permanent("invalid_template", "a template needs a name and a language")
            }
            return nil
        case .text, .image:
            let inWindow = message.context.lastInboundAt.map { message.context.now.timeIntervalSince($0) < Self.serviceWindow } ?? false
            guard inWindow else {
                return .permanent(
                    "outside_window",
                    "WhatsApp only allows free-form messages within 24 hours of the customer's last message; send an approved template instead")
            }
            if message.content.kind == .image, message.content.media?.url?.hasPrefix("http") != true {
                return .permanent("unsupported_content", "WhatsApp images must be sent as a URL")
            }
            return nil
        default:
            return .permanent("unsupported_content", "WhatsApp cannot send \(message.content.kind.rawValue) messages from the bridge")
        }
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        let request = try PlatformAPI.jsonPost(
            "\(configuration.graphURL)/\(configuration.phoneNumberId)/messages", bearer: configuration.accessToken,
            body: WhatsAppSendBody(to: message.recipient, content: message.content))
        let response = try await transport.perform(request)
        guard (200..<300).contains(response.status) else { throw error(for: response) }
        return SendReceipt(platformMessageId: PlatformAPI.decodeAnswer(WhatsAppSendAnswer.self, from: response.body)?.messages?.first?.id)
    }

    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        guard let id = media.platformId else { throw SendError.permanent("no_media_id", "the message has no WhatsApp media id") }
        let lookup = try await transport.perform(PlatformAPI.get("\(configuration.graphURL)/\(id)", bearer: configuration.accessToken))
        guard lookup.status == 200 else { throw error(for: lookup) }
        guard let info = PlatformAPI.decodeAnswer(WhatsAppMediaAnswer.self, from: lookup.body) else {
            throw SendError.retryable("bad_answer", "media lookup answer has no url")
        }
        try PlatformAPI.checkSize(info.file_size, maxBytes: maxBytes)
        let response = try await PlatformAPI.download(info.url, bearer: configuration.accessToken, maxBytes: maxBytes, transport: transport)
        guard response.status == 200 else { throw error(for: response) }
        if let expected = info.sha256 ?? media.sha256 {
            let actual = Signatures.sha256Hex(response.body)
            guard actual == expected.lowercased() else {
                throw SendError.retryable("checksum", "downloaded media does not match its sha256")
            }
        }
        return DownloadedMedia(data: response.body, mimeType: info.mime_type ?? media.mimeType)
    }

    /// The Cloud API has no profile lookup; names arrive with each webhook.
    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? { nil }

    func error(for response: TransportResponse) -> SendError {
        let answer = MetaGraph.error(in: response)
        let message = answer?.text ?? ""
        return WhatsAppErrorCodes.error(
            code: answer?.code, message: message.isEmpty ? "HTTP \(response.status)" : message,
            status: response.status, retryAfter: response.retryAfter)
    }
}
