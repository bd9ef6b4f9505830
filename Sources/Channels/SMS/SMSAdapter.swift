import ChannelKit
import Foundation

/// SMS and MMS through a Twilio-compatible API: `X-Twilio-Signature` form webhooks (messages and
/// status callbacks), STOP/START opt-out, `Messages.json` sends with basic auth, segment counting.
public struct SMSAdapter: ChannelAdapter {
    public let configuration: SMSConfiguration
    public var account: ChannelAccountRef { ChannelAccountRef(kind: .sms, id: configuration.id) }
    /// Twilio queues what a sender cannot pass on at once; this keeps the API calls polite.
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 30) }
    public static let maxBodyLength = 1600

    public init(configuration: SMSConfiguration) {
        self.configuration = configuration
    }

    public var acknowledgement: WebhookResponse {
        WebhookResponse(status: 200, contentType: "text/xml", body: #"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#)
    }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? { nil }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        guard let signature = request.header("x-twilio-signature"), !signature.isEmpty else {
            throw .unauthorized("missing X-Twilio-Signature")
        }
        guard let params = FormEncoding.decode(request.body) else { throw .unauthorized("the body is not form-encoded, so it cannot be verified") }
        // Twilio may sign the URL with or without an explicit default port.
        let urls = [request.url, request.url.replacingOccurrences(of: ":443/", with: "/").replacingOccurrences(of: ":80/", with: "/")]
        let valid = Set(urls).contains { url in
            Signatures.isValidHMACSHA1(
                base64Signature: signature, secret: configuration.authToken, message: Data(SMSWebhook.signedString(url: url, params: params).utf8))
        }
        guard valid else { throw .unauthorized("X-Twilio-Signature does not match the URL and parameters") }
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        guard !request.body.isEmpty else { throw .malformed("empty body") }
        guard let params = FormEncoding.decode(request.body) else { throw .malformed("body is not form-encoded") }
        var parsed = ParsedWebhook()
        // One post is one event: a post the bridge cannot read is kept whole.
        parsed.add(raw: String(decoding: request.body, as: UTF8.self)) { () throws(WebhookError) in
            try SMSWebhook.events(from: params, receivedAt: request.receivedAt)
        }
        return parsed
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        if message.context.recipientBlocked {
            return .permanent("opted_out", "the customer opted out of SMS (STOP); they must text START before they can be sent messages")
        }
        switch message.content.kind {
        case .text:
            if message.content.textWithNumberedChoices.count > Self.maxBodyLength {
                return .permanent("text_too_long", "SMS bodies are limited to \(Self.maxBodyLength) characters")
            }
            return nil
        case .image:
            return message.content.media?.url?.hasPrefix("http") == true ? nil : .permanent("unsupported_content", "MMS images must be sent as a URL")
        default:
            return .permanent("unsupported_content", "SMS cannot send \(message.content.kind.rawValue) messages")
        }
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        var form = [("To", message.recipient), ("From", configuration.from)]
        let body = message.content.textWithNumberedChoices
        if !body.isEmpty { form.append(("Body", body)) }
        if message.content.kind == .image, let url = message.content.media?.url { form.append(("MediaUrl", url)) }
        if let callback = configuration.statusCallbackURL { form.append(("StatusCallback", callback)) }
        let request = TransportRequest(
            method: "POST", url: "\(configuration.apiBaseURL)/2010-04-01/Accounts/\(configuration.accountSid)/Messages.json",
            headers: [("Authorization", basicAuth), ("Content-Type", "application/x-www-form-urlencoded")],
            body: Data(FormEncoding.encode(form).utf8))
        let response = try await transport.perform(request)
        guard (200..<300).contains(response.status) else { throw error(for: response) }
        let segments = SMSSegments.count(body)
        return SendReceipt(
            platformMessageId: PlatformAPI.decodeAnswer(TwilioMessageAnswer.self, from: response.body)?.sid,
            segments: body.isEmpty ? nil : MessageSegments(count: segments.segments, encoding: segments.encoding.rawValue))
    }

    /// MMS media, fetched with the account's basic auth (Twilio redirects to its CDN).
    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        guard let url = media.url else { throw SendError.permanent("no_media", "the MMS item has no URL") }
        let response = try await PlatformAPI.download(url, authorization: basicAuth, maxBytes: maxBytes, transport: transport)
        guard response.status == 200 else { throw error(for: response) }
        return DownloadedMedia(data: response.body, mimeType: response.headers["content-type"] ?? media.mimeType)
    }

    /// HTTP Basic with the account SID and auth token.
    var basicAuth: String { "Basic " + Data("\(configuration.accountSid):\(configuration.authToken)".utf8).base64EncodedString() }

    /// SMS has no profile API.
    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? { nil }

    /// Twilio errors: `{code, message, more_info, status}` (docs/platforms.md §6).
    func error(for response: TransportResponse) -> SendError {
        let answer = PlatformAPI.decodeAnswer(TwilioErrorAnswer.self, from: response.body)
        let message = answer?.message ?? "HTTP \(response.status)"
        switch answer?.code {
        case 20429?: return .retryable("twilio_20429", message, after: response.retryAfter)
        case 21610?: return .permanent("opted_out", "the number has opted out (STOP): \(message)")
        case 20003?: return .permanent("twilio_20003", "Twilio refused the account credentials: \(message)")
        case let code?:
            return response.status == 429 || response.status >= 500
                ? .retryable("twilio_\(code)", message, after: response.retryAfter) : .permanent("twilio_\(code)", message)
        case nil:
            return PlatformAPI.error(forStatus: response.status, reason: message, retryAfter: response.retryAfter)
        }
    }
}

struct TwilioMessageAnswer: Decodable {
    var sid: String
}

struct TwilioErrorAnswer: Decodable {
    var code: Int?
    var message: String?
}
