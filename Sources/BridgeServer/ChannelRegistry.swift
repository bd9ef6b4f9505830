import ChannelKit

/// The configured channel accounts: their adapters and their outbound token buckets.
struct ChannelRegistry: Sendable {
    private let adapters: [String: any ChannelAdapter]
    private let buckets: [String: TokenBucket]

    init(_ channels: [ChannelConfig]) {
        var adapters: [String: any ChannelAdapter] = [:]
        var buckets: [String: TokenBucket] = [:]
        for channel in channels {
            let adapter = channel.makeAdapter()
            adapters[channel.account.key] = adapter
            buckets[channel.account.key] = TokenBucket(limit: channel.rateLimit ?? adapter.defaultRateLimit)
        }
        self.adapters = adapters
        self.buckets = buckets
    }

    func adapter(for key: String) -> (any ChannelAdapter)? { adapters[key] }

    func adapter(kind: ChannelKind, id: String) -> (any ChannelAdapter)? { adapters[ChannelAccountRef(kind: kind, id: id).key] }

    func bucket(for key: String) -> TokenBucket? { buckets[key] }

    var accounts: [ChannelAccountRef] { adapters.values.map(\.account).sorted { $0.key < $1.key } }
}
