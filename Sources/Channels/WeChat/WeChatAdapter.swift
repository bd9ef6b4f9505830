import ChannelKit
import Foundation

/// A WeChat Official Account: signed `GET`/`POST` webhooks in plaintext or safe mode, strict XML,
/// customer-service messages within 48 hours using a shared `access_token`, media in and out.
public struct WeChatAdapter: ChannelAdapter {
    public let configuration: WeChatConfiguration
    private let tokens = WeChatTokenCache()
    /// Plaintext mode signs only token, timestamp and nonce: a timestamp further than this from the
    /// call is refused, and a nonce is a replay over another body until then (`signatureUse`).
    static let replayWindow: TimeInterval = 300
    public var account: ChannelAccountRef { ChannelAccountRef(kind: .wechat, id: configuration.id) }
    /// No per-second limit is published (daily quotas apply); this keeps bursts polite.
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 20) }
    public static let serviceWindow: TimeInterval = ReplyWindow.wechat.window
    /// Error codes meaning the access token is no longer valid.
    static let tokenExpired: Set<Int> = [40001, 40014, 42001]

    public init(configuration: WeChatConfiguration) {
        self.configuration = configuration
    }

    /// WeChat wants `success` (not an empty 200) when the reply comes later by the API.
    public var acknowledgement: WebhookResponse { WebhookResponse(status: 200, body: "success") }

    private func checkSignature(_ request: WebhookRequest) throws(WebhookError) {
        guard let signature = request.query["signature"], let timestamp = request.query["timestamp"], let nonce = request.query["nonce"] else {
            throw .unauthorized("missing signature, timestamp or nonce")
        }
        let expected = WeChatCrypto.signature([configuration.token, timestamp, nonce])
        guard Signatures.constantTimeEquals(signature.lowercased(), expected) else { throw .unauthorized("signature does not match") }
    }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? {
        do {
            try checkSignature(request)
        } catch {
            throw .forbidden("signature does not match the token")
        }
        return WebhookResponse(status: 200, body: request.query["echostr"] ?? "")
    }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        try checkSignature(request)
        try SignatureUse.checkFresh(timestamp: request.query["timestamp"] ?? "", now: request.receivedAt, window: Self.replayWindow)
        guard request.query["encrypt_type"] == "aes" else { return }
        guard let msgSignature = request.query["msg_signature"] else { throw .unauthorized("missing msg_signature") }
        let encrypted = try encryptedField(request.body)
        let expected = WeChatCrypto.signature([configuration.token, request.query["timestamp"] ?? "", request.query["nonce"] ?? "", encrypted])
        guard Signatures.constantTimeEquals(msgSignature.lowercased(), expected) else { throw .unauthorized("msg_signature does not match the body") }
    }

    /// The nonce, with the body it signed, for every webhook: in plaintext mode the signature does
    /// not cover the body (in safe mode `msg_signature` does, and a redelivery is the same body).
    /// It is remembered while its timestamp passes `verify` and a second longer (the ledgers count
    /// in milliseconds): until the timestamp plus the window, a timestamp ahead of the call staying
    /// fresh that much longer. It is kept under the token's digest, not the account: the signature
    /// is the token's, whichever account it is sent to.
    public func signatureUse(_ request: WebhookRequest) -> SignatureUse? {
        let signedAt = request.query["timestamp"].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) ?? request.receivedAt
        return SignatureUse(
            signer: "wechat:" + Signatures.sha256Hex(Data(configuration.token.utf8)).prefix(32), nonce: request.query["nonce"] ?? "",
            body: request.body, expires: max(signedAt, request.receivedAt).addingTimeInterval(Self.replayWindow + 1))
    }

    private func encryptedField(_ body: Data) throws(WebhookError) -> String {
        let outer: [String: String]
        do {
            outer = try WeChatXML.fields(body)
        } catch {
            throw .malformed(Self.describe(error))
        }
        guard let encrypted = outer["Encrypt"], !encrypted.isEmpty else { throw .malformed("missing field Encrypt") }
        return encrypted
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        guard !request.body.isEmpty else { throw .malformed("empty body") }
        var xml = request.body
        if request.query["encrypt_type"] == "aes" {
            guard let key = configuration.encodingAESKey else { throw .malformed("safe mode message, but no encodingAESKey is configured") }
            do {
                xml = try WeChatCrypto.decrypt(try encryptedField(request.body), encodingAESKey: key, appId: configuration.appId)
            } catch WeChatCrypto.Failure.wrongAppId {
                throw .unauthorized("the decrypted message is for another AppID")
            } catch let error as WebhookError {
                throw error
            } catch {
                throw .malformed("Encrypt cannot be decrypted with the configured key")
            }
        }
        let fields: [String: String]
        do {
            fields = try WeChatXML.fields(xml)
        } catch {
            throw .malformed(Self.describe(error))
        }
        // One body is one event: one the bridge cannot read is kept whole, and acknowledged.
        var parsed = ParsedWebhook()
        parsed.add(raw: String(decoding: xml, as: UTF8.self)) { () throws(WebhookError) in try WeChatEventMapper.events(from: fields) }
        return parsed
    }

    static func describe(_ error: WeChatXML.Failure) -> String {
        switch error {
        case .tooLarge: "XML body over \(WeChatXML.maxBytes) bytes"
        case .forbidden(let why): "refused XML: \(why)"
        case .invalid(let why): "invalid XML: \(why)"
        }
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        let inWindow = message.context.lastInboundAt.map { message.context.now.timeIntervalSince($0) < Self.serviceWindow } ?? false
        guard inWindow else {
            return .permanent(
                "outside_window", "WeChat allows customer-service messages only within 48 hours of the customer's last message; that time has passed")
        }
        if message.context.recipientBlocked { return .permanent("blocked", "the customer unfollowed the account") }
        switch message.content.kind {
        case .text: return nil
        case .image: return message.content.media?.url?.hasPrefix("http") == true ? nil : .permanent("unsupported_content", "WeChat images must be given as a URL")
        default: return .permanent("unsupported_content", "WeChat cannot send \(message.content.kind.rawValue) messages from the bridge")
        }
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        if let refusal = refusal(for: message) { throw refusal }
        var body = WeChatCustomBody(touser: message.recipient, msgtype: "text", text: .init(content: message.content.textWithNumberedChoices))
        if message.content.kind == .image, let url = message.content.media?.url {
            body = WeChatCustomBody(touser: message.recipient, msgtype: "image", image: .init(media_id: try await upload(imageAt: url, transport: transport)))
        }
        let payload = body
        _ = try await withToken(transport) { token in
            try PlatformAPI.jsonPost("\(configuration.apiBaseURL)/cgi-bin/message/custom/send?access_token=\(token)", bearer: nil, body: payload)
        }
        return SendReceipt(platformMessageId: nil)
    }

    /// Fetches an image and uploads it as temporary media; returns its `media_id`. A failed fetch
    /// says only "could not fetch the image": the URL is an agent's, and the answer must not tell
    /// them what the remote (or the bridge's network) said.
    func upload(imageAt url: String, transport: any HTTPTransport) async throws -> String {
        let image: TransportResponse
        do {
            image = try await PlatformAPI.download(url, bearer: nil, maxBytes: 10 << 20, transport: transport)
        } catch let error as SendError where error.code == "too_large" {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = SendError.classify(error)
            throw SendError(failure.disposition, code: "image_unavailable", reason: "could not fetch the image")
        }
        guard image.status == 200 else { throw SendError.permanent("image_unavailable", "could not fetch the image") }
        let boundary = "bridge-\(UUID().uuidString)"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"image.jpg\"\r\n".utf8)
        form += Data("Content-Type: \(image.headers["content-type"] ?? "image/jpeg")\r\n\r\n".utf8) + image.body + Data("\r\n--\(boundary)--\r\n".utf8)
        let answer = try await withToken(transport) { token in
            TransportRequest(
                method: "POST", url: "\(configuration.apiBaseURL)/cgi-bin/media/upload?access_token=\(token)&type=image",
                headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: form)
        }
        guard let mediaId = answer.media_id else { throw SendError.retryable("bad_answer", "media/upload returned no media_id") }
        return mediaId
    }

    /// Runs a JSON API call with the cached token (see `retryingExpiredToken`).
    private func withToken(_ transport: any HTTPTransport, _ build: (String) throws -> TransportRequest) async throws -> WeChatAnswer {
        try await retryingExpiredToken(transport) { token in
            let response = try await transport.perform(try build(token))
            guard response.status == 200 else {
                throw PlatformAPI.error(forStatus: response.status, reason: "HTTP \(response.status)", retryAfter: response.retryAfter)
            }
            let answer = PlatformAPI.decodeAnswer(WeChatAnswer.self, from: response.body) ?? WeChatAnswer()
            return ((answer.errcode ?? 0) == 0 ? .success(answer) : .failure(answer))
        }
    }

    /// Calls `attempt` with the cached token. When WeChat answers a token-expired code, the token is
    /// dropped, a new one fetched, and the call made once more; other codes become `SendError`s.
    func retryingExpiredToken<T>(
        _ transport: any HTTPTransport, _ attempt: (String) async throws -> Result<T, WeChatAnswer>
    ) async throws -> T {
        for round in 0..<2 {
            let token = try await accessToken(transport)
            switch try await attempt(token) {
            case .success(let value): return value
            case .failure(let answer):
                let code = answer.errcode ?? -1
                if Self.tokenExpired.contains(code), round == 0 {
                    await tokens.invalidate(token)
                    continue
                }
                throw Self.error(code: code, message: answer.errmsg ?? "")
            }
        }
        throw SendError.retryable("token", "the access token was refused twice")
    }

    func accessToken(_ transport: any HTTPTransport) async throws -> String {
        let url = "\(configuration.apiBaseURL)/cgi-bin/token?grant_type=client_credential&appid=\(configuration.appId)&secret=\(configuration.appSecret)"
        return try await tokens.token {
            let response = try await transport.perform(TransportRequest(method: "GET", url: url))
            let answer = PlatformAPI.decodeAnswer(WeChatAnswer.self, from: response.body)
            guard response.status == 200, let token = answer?.access_token else {
                throw Self.error(code: answer?.errcode ?? -1, message: answer?.errmsg ?? "HTTP \(response.status) from cgi-bin/token")
            }
            return (token, answer?.expires_in ?? 7200)
        }
    }

    /// How many access tokens were fetched.
    public func tokenFetches() async -> Int { await tokens.fetches }

    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        guard let mediaId = media.platformId else {
            guard let url = media.url else { throw SendError.permanent("no_media", "the message has no MediaId") }
            let response = try await PlatformAPI.download(url, bearer: nil, maxBytes: maxBytes, transport: transport)
            return DownloadedMedia(data: response.body, mimeType: response.headers["content-type"])
        }
        return try await retryingExpiredToken(transport) { token in
            let response = try await PlatformAPI.download(
                "\(configuration.apiBaseURL)/cgi-bin/media/get?access_token=\(token)&media_id=\(mediaId)", bearer: nil, maxBytes: maxBytes, transport: transport)
            let type = response.headers["content-type"] ?? ""
            guard type.contains("json") || type.hasPrefix("text/plain") else {
                return .success(DownloadedMedia(data: response.body, mimeType: type.isEmpty ? media.mimeType : type))
            }
            // JSON instead of bytes: an error, or a video's download URL.
            let answer = PlatformAPI.decodeAnswer(WeChatAnswer.self, from: response.body) ?? WeChatAnswer(errcode: -1, errmsg: "media/get failed")
            guard let videoURL = answer.video_url else { return .failure(answer) }
            let video = try await PlatformAPI.download(videoURL, bearer: nil, maxBytes: maxBytes, transport: transport)
            return .success(DownloadedMedia(data: video.body, mimeType: video.headers["content-type"] ?? "video/mp4"))
        }
    }

    /// WeChat has a user-info API only for some account types; names are left to the agent.
    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? { nil }

    /// `errcode` classification (docs/platforms.md §4).
    static func error(code: Int, message: String) -> SendError {
        switch code {
        case -1, 45009, 45011: .retryable("wechat_\(code)", message)
        case 45066: .retryable("wechat_45066", "WeChat asks to wait a minute before retrying this mass send (\(message))", after: .seconds(60))
        case 45015, 45047: .permanent("outside_window", "WeChat refused: the customer must write again first (\(code) \(message))")
        case 43004: .permanent("wechat_43004", "the customer does not follow the account (\(message))")
        case 40003: .permanent("wechat_40003", "invalid OpenID (\(message))")
        case 48001, 40164, 40013, 40125: .permanent("wechat_\(code)", "account configuration refused by WeChat: \(message)")
        default: .permanent("wechat_\(code)", message)
        }
    }
}

extension WeChatAdapter: BatchSending {
    /// Mass send by OpenID: 2 to 10,000 followers per request (service accounts; monthly quotas apply).
    public var batchRecipients: ClosedRange<Int> { 2...10_000 }
    public var batchRateLimit: RateLimit { RateLimit(perSecond: 1, burst: 5) }

    /// Followers outside the 48-hour window get text by mass send; inside it, a customer-service message.
    public func prefersBatch(_ message: OutboundMessage) -> Bool {
        let inWindow = message.context.lastInboundAt.map { message.context.now.timeIntervalSince($0) < Self.serviceWindow } ?? false
        return !inWindow && !message.context.recipientBlocked && message.content.kind == .text
    }

    /// `POST /cgi-bin/message/mass/send` with `clientmsgid` = `key` (at most 64 bytes): WeChat answers
    /// 45065 for a batch it already took, which counts as sent.
    public func sendBatch(_ content: MessageContent, to recipients: [String], key: String, transport: any HTTPTransport) async throws -> BatchReceipt {
        let body = WeChatMassBody(touser: recipients, text: .init(content: content.text ?? ""), clientmsgid: String(key.prefix(64)))
        return try await retryingExpiredToken(transport) { token in
            let response = try await transport.perform(
                try PlatformAPI.jsonPost("\(configuration.apiBaseURL)/cgi-bin/message/mass/send?access_token=\(token)", bearer: nil, body: body))
            guard response.status == 200 else {
                throw PlatformAPI.error(forStatus: response.status, reason: "HTTP \(response.status)", retryAfter: response.retryAfter)
            }
            let answer = PlatformAPI.decodeAnswer(WeChatAnswer.self, from: response.body) ?? WeChatAnswer()
            switch answer.errcode ?? 0 {
            case 0: return .success(BatchReceipt(platformBatchId: answer.msg_id.map(String.init)))
            case 45065: return .success(BatchReceipt(platformBatchId: answer.msg_id.map(String.init), alreadyAccepted: true))
            default: return .failure(answer)
            }
        }
    }
}
