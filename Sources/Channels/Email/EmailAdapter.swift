import ChannelKit
import Foundation

/// A support mailbox as a channel account. Mail arrives by IMAP (the bridge's mailbox reader
/// parses it with `ParsedMail` and files `MailEvents`), not by webhook: `verify` refuses every
/// webhook call until a provider's signed webhook is supported. Replies leave through `relay`:
/// the SMTP relay of `email:` in bridge.yaml, sending from this mailbox's address and threading
/// each reply into the customer's conversation (`OutboundMessage.thread`).
public struct EmailAdapter: ChannelAdapter {
    public let configuration: EmailConfiguration
    /// Sends the replies; nil when the bridge has no SMTP relay (replies are then refused).
    public let relay: (any MessageSender)?
    public var account: ChannelAccountRef { ChannelAccountRef(kind: .email, id: configuration.id) }
    public var defaultRateLimit: RateLimit { RateLimit(perSecond: 5) }

    public init(configuration: EmailConfiguration, relay: (any MessageSender)? = nil) {
        self.configuration = configuration
        self.relay = relay
    }

    public var acknowledgement: WebhookResponse { WebhookResponse(status: 200, body: "") }

    public func handshake(_ request: WebhookRequest) throws(WebhookError) -> WebhookResponse? { nil }

    public func verify(_ request: WebhookRequest) throws(WebhookError) {
        throw .unauthorized("e-mail accounts take no webhooks: their mail is read from the mailbox by IMAP")
    }

    public func parse(_ request: WebhookRequest) throws(WebhookError) -> ParsedWebhook {
        throw .malformed("e-mail accounts take no webhooks")
    }

    public func refusal(for message: OutboundMessage) -> SendError? {
        guard let relay else { return .permanent("no_relay", "replies by e-mail need the SMTP relay (email: in bridge.yaml)") }
        return relay.refusal(for: message)
    }

    public func send(_ message: OutboundMessage, transport: any HTTPTransport) async throws -> SendReceipt {
        guard let relay else { throw refusal(for: message)! }
        return try await relay.send(message, transport: transport)
    }

    public func downloadMedia(_ media: MediaReference, kind: MessageContent.Kind, maxBytes: Int, transport: any HTTPTransport) async throws -> DownloadedMedia {
        try MailEvents.data(fromDataURL: media.url ?? "", maxBytes: maxBytes)
    }

    public func fetchProfile(userId: String, transport: any HTTPTransport) async throws -> ContactProfile? { nil }
}
