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
    public static let serviceWindow: TimeInterval = 24 * 3600

    public init(configuration: WhatsAppConfiguration) {
        self.configuration = configuration
    }

    public var acknowledgement: WebhookResponse { .ok }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? {
        guard request.query["hub.mode"] == "subscribe", let challenge = request.query["hub.challenge"],
            let token = request.query["hub.verify_token"], Signatures.constantTimeEquals(token, configuration.verifyToken)
        else { throw .forbidden("hub.verify_token does not match") }
        return WebhookResponse(status: 200, body: challenge)
    }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        guard let header = request.header("x-hub-signature-256"), header.hasPrefix("sha256=") else {
            throw .unauthorized("missing X-Hub-Signature-256")
        }
        guard Signatures.isValidHMACSHA256(hexSignature: String(header.dropFirst(7)), secret: configuration.appSecret, body: request.body) else {
            throw .unauthorized("X-Hub-Signature-256 does not match the body")
        }
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> [InboundEvent] {
        let payload = try PlatformAPI.decodeWebhook(WhatsAppWebhookPayload.self, from: request.body)
        return try WhatsAppEventMapper.events(from: payload, phoneNumberId: configuration.phoneNumberId)
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
        if let size = info.file_size, size > maxBytes {
            throw SendError.permanent("too_large", "file of \(size) bytes exceeds the \(maxBytes)-byte limit")
        }
        let response: TransportResponse
        do {
            response = try await transport.perform(PlatformAPI.get(info.url, bearer: configuration.accessToken), maxResponseBytes: maxBytes)
        } catch TransportError.responseTooLarge(let limit) {
            throw SendError.permanent("too_large", "content exceeds the \(limit)-byte limit")
        }
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
        let answer = PlatformAPI.decodeAnswer(WhatsAppErrorAnswer.self, from: response.body)?.error
        let message = [answer?.message, answer?.error_data?.details].compactMap { $0 }.joined(separator: ": ")
        return WhatsAppErrorCodes.error(
            code: answer?.code, message: message.isEmpty ? "HTTP \(response.status)" : message,
            status: response.status, retryAfter: response.retryAfter)
    }
}
