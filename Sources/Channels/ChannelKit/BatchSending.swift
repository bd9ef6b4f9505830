import Foundation

/// A channel that can send one message to many recipients in one request (LINE multicast,
/// WeChat mass send). Campaigns use it; a `key` makes a resend of the same batch a no-op on the
/// platform, so a batch interrupted by a crash can be sent again without doubling.
public protocol BatchSending: ChannelAdapter {
    /// Fewest and most recipients one request takes.
    var batchRecipients: ClosedRange<Int> { get }
    /// The platform's limit on batch requests (separate from single sends).
    var batchRateLimit: RateLimit { get }
    /// Whether this message should go in a batch rather than alone (every recipient gets the same
    /// content, so the caller only batches content without per-recipient variables).
    func prefersBatch(_ message: OutboundMessage) -> Bool
    /// Sends `content` to `recipients` (platform user ids) in one request.
    func sendBatch(_ content: MessageContent, to recipients: [String], key: String, transport: any HTTPTransport) async throws -> BatchReceipt
}

/// A channel that sends one message to every follower of the account in one request (LINE's
/// broadcast API). Under the same `key`, a resend is a no-op on the platform.
public protocol FollowerBroadcasting: ChannelAdapter {
    func broadcastToFollowers(_ content: MessageContent, key: String, transport: any HTTPTransport) async throws -> BatchReceipt
}

/// What the platform answered to a batch.
public struct BatchReceipt: Sendable, Equatable {
    /// The platform's id for the batch (WeChat `msg_id`), when it gives one.
    public var platformBatchId: String?
    /// The platform had already accepted this batch (a resend after a crash).
    public var alreadyAccepted: Bool

    public init(platformBatchId: String? = nil, alreadyAccepted: Bool = false) {
        self.platformBatchId = platformBatchId
        self.alreadyAccepted = alreadyAccepted
    }
}
