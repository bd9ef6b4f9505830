import Foundation

/// Something that sends customers messages: a channel account, or the e-mail relay (which has
/// no webhooks). Campaigns send through this.
public protocol MessageSender: Sendable {
    /// Default outbound rate limit for this account (docs/platforms.md), used unless configured.
    var defaultRateLimit: RateLimit { get }

    /// Refuses, before anything is queued or sent, a message the platform's rules forbid now
    /// (outside the customer-service window, unsupported content, blocked recipient).
    func refusal(for message: OutboundMessage) -> SendError?

    /// Sends one message. Throws `SendError` (or a transport error, which is retryable).
    func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt
}

/// One configured account on one platform: verifies and parses its webhooks and talks to its API.
///
/// The server calls, in this order, for every webhook: `verify` on the raw bytes (with
/// `signatureUse`'s nonce recorded), then `parse`.
/// Nothing is parsed before the signature holds. Adapters never touch the store.
public protocol ChannelAdapter: MessageSender {
    var account: ChannelAccountRef { get }

    /// Answers a `GET` verification handshake, or throws `.forbidden`. `nil` when the platform has none.
    func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse?

    /// Checks the signature over the raw body. Throws `.unauthorized` when it does not hold.
    func verify(_ request: WebhookRequest) throws(WebhookError)

    /// For a signature that does not cover the body, the nonce it used: the server records it in the
    /// bridge's `NonceLedger` after `verify`, and refuses the webhook when the nonce already signed
    /// another body (in any process). Nil (the default) when the signature covers the body.
    func signatureUse(_ request: WebhookRequest) -> SignatureUse?

    /// Turns a verified body into normalised events, each platform event read on its own: one it
    /// cannot read is returned as unreadable, never thrown. Throws `.malformed` only for a body
    /// whose envelope it cannot read (not JSON or XML, no event list).
    func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook

    /// What the platform expects back once the events are durable.
    var acknowledgement: WebhookResponse { get }

    /// Fetches media the platform holds for an inbound message of `kind` (image, video, ...),
    /// refusing anything over `maxBytes`. A file the platform is still preparing is a retryable error.
    func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia

    /// Looks up the customer's display name where the platform has a profile API; `nil` otherwise.
    func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile?
}

extension ChannelAdapter {
    public func signatureUse(_ request: WebhookRequest) -> SignatureUse? { nil }
}
