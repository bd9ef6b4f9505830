import Foundation

/// What Meta's platforms (WhatsApp Cloud API, Messenger, Instagram) share: the `hub.*` handshake,
/// `X-Hub-Signature-256`, and the Graph API error body.
public enum MetaGraph {
    /// Answers `GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C` with `C` when `T` matches.
    public static func handshake(_ request: WebhookRequest, verifyToken: String) throws(WebhookError) -> WebhookResponse {
        guard request.query["hub.mode"] == "subscribe", let challenge = request.query["hub.challenge"],
            let token = request.query["hub.verify_token"], Signatures.constantTimeEquals(token, verifyToken)
        else { throw .forbidden("hub.verify_token does not match") }
        return WebhookResponse(status: 200, body: challenge)
    }

    /// Checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`; `signingKey` is
    /// the app secret.
    public static func verify(_ request: WebhookRequest, signingKey: HMACSHA256Key) throws(WebhookError) {
        guard let header = request.header("x-hub-signature-256"), header.hasPrefix("sha256=") else {
            throw .unauthorized("missing X-Hub-Signature-256")
        }
        guard signingKey.isValid(hexSignature: String(header.dropFirst(7)), body: request.body) else {
            throw .unauthorized("X-Hub-Signature-256 does not match the body")
        }
    }

    /// The Graph API error body: `{"error":{message,type,code,error_subcode,error_data,fbtrace_id}}`.
    public struct APIError: Decodable, Sendable {
        public var message: String?
        public var code: Int?
        public var error_subcode: Int?
        public var error_data: ErrorData?

        public struct ErrorData: Decodable, Sendable {
            public var details: String?
        }

        /// The message and the details, for an agent to read.
        public var text: String { [message, error_data?.details].compactMap { $0 }.joined(separator: ": ") }
    }

    private struct Envelope: Decodable { var error: APIError }

    /// The error in a failed answer, if the body is Graph-shaped.
    public static func error(in response: TransportResponse) -> APIError? {
        PlatformAPI.decodeAnswer(Envelope.self, from: response.body)?.error
    }
}
