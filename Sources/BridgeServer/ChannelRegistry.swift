import ChannelKit
import UniversalInbox

/// The configured channel accounts: their adapters and their outbound token buckets (one per
/// account for single sends, shared by agents' replies and campaigns; one for batch requests),
/// whose balances live in `rateLimits` under the account's key (`batch:` before it for batches).
struct ChannelRegistry: Sendable {
    private let adapters: [String: any ChannelAdapter]
    private let buckets: [String: TokenBucket]
    private let batchBuckets: [String: TokenBucket]

    init(_ channels: [ChannelConfig], rateLimits: any RateLimitLedger) {
        var adapters: [String: any ChannelAdapter] = [:]
        var buckets: [String: TokenBucket] = [:]
        var batchBuckets: [String: TokenBucket] = [:]
        for channel in channels {
            let adapter = channel.makeAdapter()
            let key = channel.account.key
            adapters[key] = adapter
            buckets[key] = TokenBucket(limit: channel.rateLimit ?? adapter.defaultRateLimit, name: key, ledger: rateLimits)
            if let batching = adapter as? any BatchSending {
                batchBuckets[key] = TokenBucket(limit: batching.batchRateLimit, name: "batch:\(key)", ledger: rateLimits)
            }
        }
        self.adapters = adapters
        self.buckets = buckets
        self.batchBuckets = batchBuckets
    }

    func batchBucket(for key: String) -> TokenBucket? { batchBuckets[key] }

    /// Accounts whose single sends carry an idempotency key (LINE's retry key), so a send
    /// interrupted by a crash may be made again.
    var idempotentAccounts: Set<String> { Set(adapters.filter { $0.value.account.kind == .line }.keys) }

    func adapter(for key: String) -> (any ChannelAdapter)? { adapters[key] }

    func adapter(kind: ChannelKind, id: String) -> (any ChannelAdapter)? { adapters[ChannelAccountRef(kind: kind, id: id).key] }

    func bucket(for key: String) -> TokenBucket? { buckets[key] }

    /// Why a reply may not go out now (the channel's rules), or nil when it may.
    func refusal(for target: ReplyTarget) -> SendError? {
        guard let adapter = adapters[target.account] else {
            return .permanent("unknown_account", "channel account \(target.account) is no longer configured")
        }
        return adapter.refusal(for: target.message)
    }

    var accounts: [ChannelAccountRef] { adapters.values.map(\.account).sorted { $0.key < $1.key } }
}
