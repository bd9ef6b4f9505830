import ChannelKit
import Foundation
import Synchronization

/// Token buckets (ChannelKit's `TokenBucketState`, the arithmetic the outbound limits use) per
/// visitor and per client address, on the visitor API: a new chat or a message takes a token from
/// the visitor's bucket and from the address's, and is refused (429 with `Retry-After`) when either
/// is empty, so neither one noisy visitor nor one address minting visitors can flood the inbox.
/// The clock is injected (tests move time instead of sleeping).
///
/// Two kinds of limit, kept in two places:
/// - Those that guard a secret or someone else (codes tried against a visitor's confirmation, mail
///   sent to an address a stranger typed, the account's mail relay) are kept in the bridge's
///   `RateLimitLedger`: on PostgreSQL shared by every process, so two processes behind a load
///   balancer allow what one does, not twice as many guesses or mails. Their bucket names are
///   digests (`RateLimitLedgers.bucket`), and `LedgerJanitor` forgets the refilled ones.
/// - Those that guard the work a process does (chats, messages, images, other calls, open polls)
///   stay in the process, with no database round trip on every widget call: a refusal there
///   protects this process's share of the work. Memory is bounded, the stalest keys dropped first.
final class WidgetThrottle: Sendable {
    struct Limits: Sendable, Equatable {
        /// New chats (sessions) per client address.
        var sessionsPerAddress = RateLimit(perSecond: 1.0 / 60, burst: 20)
        /// Messages per visitor, and per client address (several visitors behind one address).
        var messagesPerVisitor = RateLimit(perSecond: 0.5, burst: 10)
        var messagesPerAddress = RateLimit(perSecond: 2, burst: 60)
        /// Every other visitor call (the conversation, a poll, typing, a rating), per visitor and
        /// per address: a widget polls every few seconds at most, a loop of calls is refused.
        var requestsPerVisitor = RateLimit(perSecond: 2, burst: 30)
        var requestsPerAddress = RateLimit(perSecond: 10, burst: 120)
        /// Transcripts by e-mail (each sends a mail to an address a stranger typed): per visitor,
        /// per recipient address (so no one address can be flooded from many visitors) and per
        /// client address. Three an hour to one visitor or recipient, ten an hour from one address.
        var transcriptsPerVisitor = RateLimit(perSecond: 3.0 / 3600, burst: 3)
        var transcriptsPerRecipient = RateLimit(perSecond: 3.0 / 3600, burst: 3)
        var transcriptsPerAddress = RateLimit(perSecond: 10.0 / 3600, burst: 10)
        /// Confirmation codes mailed (the offline form's address): one an hour to a recipient
        /// whoever asks, two to a visitor, ten from a client address; and codes tried per visitor:
        /// five an hour, against a million codes.
        var confirmationsPerRecipient = RateLimit(perSecond: 1.0 / 3600, burst: 1)
        var confirmationsPerVisitor = RateLimit(perSecond: 2.0 / 3600, burst: 2)
        var confirmationsPerAddress = RateLimit(perSecond: 10.0 / 3600, burst: 10)
        var codeAttemptsPerVisitor = RateLimit(perSecond: 5.0 / 3600, burst: 5)
        /// Codes tried for one address, whichever visitors try them: ten an hour (a visitor is cheap
        /// to make, and a code holds up to a day, so per visitor alone guesses would add up).
        var codeAttemptsPerRecipient = RateLimit(perSecond: 10.0 / 3600, burst: 10)
        /// Every mail the widget sends for visitors (transcripts, confirmation codes), per account:
        /// a hundred an hour, whatever the addresses and visitors, so many addresses together cannot
        /// make the business's relay a sender of strangers' text.
        var mailsPerAccount = RateLimit(perSecond: 100.0 / 3600, burst: 100)
        /// Images (up to 5 MiB each, kept for good): per visitor and per client address, apart from
        /// messages, which are sized for text.
        var imagesPerVisitor = RateLimit(perSecond: 20.0 / 3600, burst: 10)
        var imagesPerAddress = RateLimit(perSecond: 60.0 / 3600, burst: 30)
        /// Long-polls and live sockets open at once per visitor (a widget keeps one; a second tab
        /// another): each one reads the log every time anything happens in the bridge.
        var openPerVisitor = 2
    }

    /// A request refused for now.
    struct Limited: Error {
        /// Whole seconds until it may be tried again (at least 1).
        var retryAfter: Int

        init(retryAfter: Int) { self.retryAfter = retryAfter }
    }

    let limits: Limits
    /// Where the limits that guard a secret or someone else keep their buckets.
    private let ledger: any RateLimitLedger
    /// The shared buckets that refused here lately: a flood of refused calls costs the ledger nothing.
    private let refusals = RecentRefusals()
    private let now: @Sendable () -> Date
    private let maxKeys: Int
    private let buckets = Mutex([String: (state: TokenBucketState, used: Date)]())
    private let opened = Mutex([String: Int]())

    init(
        limits: Limits = Limits(), ledger: any RateLimitLedger = InProcessRateLimitLedger(), maxKeys: Int = 20_000,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.limits = limits
        self.ledger = ledger
        self.maxKeys = maxKeys
        self.now = now
    }

    /// Takes a token for a new chat from `address`.
    func session(address: String?) throws(Limited) {
        try take([(address.map { "s:\($0)" }, limits.sessionsPerAddress)])
    }

    /// Takes a token for a message from `visitorId` and from `address`.
    func message(visitorId: String, address: String?) throws(Limited) {
        try take([("v:\(visitorId)", limits.messagesPerVisitor), (address.map { "m:\($0)" }, limits.messagesPerAddress)])
    }

    /// Takes a token for any other call from `visitorId` and from `address`.
    func request(visitorId: String, address: String?) throws(Limited) {
        try take([("r:\(visitorId)", limits.requestsPerVisitor), (address.map { "a:\($0)" }, limits.requestsPerAddress)])
    }

    /// Takes a token for a transcript from `visitorId`, from the recipient `email` (letters in
    /// lower case), from `address` and from the account's mail, in the shared ledger.
    func transcript(account: String, visitorId: String, recipient email: String, address: String?) async throws {
        try await takeShared([
            ("widget/transcripts/visitor", visitorId, limits.transcriptsPerVisitor), ("widget/transcripts/recipient", email.lowercased(), limits.transcriptsPerRecipient),
            address.map { ("widget/transcripts/address", $0, limits.transcriptsPerAddress) }, ("widget/mails/account", account, limits.mailsPerAccount),
        ])
    }

    /// Takes a token for mailing a confirmation code to `recipient` (a plain address, letters in
    /// lower case) for `visitorId` from `address`, and from the account's mail, in the shared ledger.
    func confirmation(account: String, visitorId: String, recipient: String, address: String?) async throws {
        try await takeShared([
            ("widget/confirmations/recipient", recipient.lowercased(), limits.confirmationsPerRecipient),
            ("widget/confirmations/visitor", visitorId, limits.confirmationsPerVisitor),
            address.map { ("widget/confirmations/address", $0, limits.confirmationsPerAddress) }, ("widget/mails/account", account, limits.mailsPerAccount),
        ])
    }

    /// Takes a token for trying a confirmation code for `recipient` on `account` from `visitorId`,
    /// in the shared ledger.
    func codeAttempt(account: String, visitorId: String, recipient: String) async throws {
        try await takeShared([
            ("widget/code-attempts/recipient", "\(account) \(recipient.lowercased())", limits.codeAttemptsPerRecipient),
            ("widget/code-attempts/visitor", visitorId, limits.codeAttemptsPerVisitor),
        ])
    }

    /// Takes a token for an image from `visitorId` and from `address` (besides a message's).
    func image(visitorId: String, address: String?) throws(Limited) {
        try take([("i:\(visitorId)", limits.imagesPerVisitor), (address.map { "ia:\($0)" }, limits.imagesPerAddress)])
    }

    /// The key an address is limited under: an IPv6 client by its /64, which one subscriber
    /// usually holds whole (any address in it is theirs to use), an IPv4 one by itself.
    static func addressKey(_ address: String) -> String {
        guard let ip = IPAddress(address)?.normalized else { return address }
        guard !ip.isIPv4, let network = IPAddress(bytes: Array(ip.bytes.prefix(8)) + Array(repeating: 0, count: 8)) else { return ip.description }
        return "\(network)/64"
    }

    /// Counts a long-poll or socket `visitorId` opens; false (open nothing) when it has
    /// `openPerVisitor` open already. Each true is followed by `close`.
    func open(visitorId: String) -> Bool {
        let most = limits.openPerVisitor
        return opened.withLock { opened in
            guard opened[visitorId, default: 0] < most else { return false }
            opened[visitorId, default: 0] += 1
            return true
        }
    }

    func close(visitorId: String) {
        opened.withLock { opened in
            let left = opened[visitorId, default: 1] - 1
            opened[visitorId] = left > 0 ? left : nil
        }
    }

    /// Takes one token from each shared bucket (`scope`, the key it limits, the limit), or none:
    /// `Limited` when one is empty; `APIError.limitsUnavailable` when the ledger cannot be reached
    /// (nothing is let through unchecked).
    private func takeShared(_ wanted: [(scope: String, key: String, limit: RateLimit)?]) async throws {
        let buckets = wanted.compactMap { $0 }.map { (name: RateLimitLedgers.bucket($0.scope, $0.key), limit: $0.limit) }
        if let refused = try await RateLimitLedgers.take(buckets, from: ledger, at: now(), refusals: refusals) {
            throw Limited(retryAfter: refused.retryAfter)
        }
    }

    /// Takes one token from each bucket, or none: a refusal gives back what it took.
    private func take(_ wanted: [(key: String?, limit: RateLimit)]) throws(Limited) {
        let now = now()
        let maxKeys = maxKeys
        let wait: Duration = buckets.withLock { buckets in
            var taken: [String] = []
            for case let (key?, limit) in wanted {
                var bucket = buckets[key]?.state ?? TokenBucketState(limit: limit)
                let wait = bucket.reserve(at: now)
                if wait > .zero {
                    bucket.refund()
                    buckets[key] = (bucket, now)
                    for key in taken { buckets[key]?.state.refund() }
                    return wait
                }
                buckets[key] = (bucket, now)
                taken.append(key)
            }
            if buckets.count > maxKeys {
                for (key, _) in buckets.sorted(by: { $0.value.used < $1.value.used }).prefix(buckets.count - maxKeys) { buckets.removeValue(forKey: key) }
            }
            return .zero
        }
        if wait > .zero { throw Limited(retryAfter: RateLimitLedgers.retryAfter(wait)) }
    }
}
