import ChannelKit

/// The channel accounts a campaign sends through, as the server configured them. The token buckets
/// are the outbox dispatcher's own, so agents' replies and campaigns share each platform's limit.
/// `email` is the e-mail relay, when one is configured.
public protocol BroadcastAccounts: Sendable {
    func adapter(for account: String) -> (any MessageSender)?
    /// The account's bucket for single sends.
    func bucket(for account: String) -> TokenBucket?
    /// The account's bucket for batch requests (LINE multicast, WeChat mass send).
    func batchBucket(for account: String) -> TokenBucket?
}
