import ChannelKit
import Foundation

/// Limits password guessing: `perAccount` failed logins per e-mail address (known or not, so the
/// answer says nothing about which accounts exist) and `perAddress` per client address, each a
/// token bucket that refills its limit over `window` (at most `perAccount` at once, then one every
/// `window / perAccount`). Past a limit, logins are answered 429 with the seconds until a token is
/// back, without running bcrypt. A success clears the account's failures.
///
/// The buckets are kept in the bridge's `RateLimitLedger`, so on PostgreSQL every process behind
/// the load balancer counts the same failures: two processes allow what one does, not twice as
/// many guesses. Their names are digests (`RateLimitLedgers.bucket`), so the shared table holds no
/// e-mail or client address, and `LedgerJanitor` forgets the refilled ones.
///
/// Each attempt is counted as a failure when it starts (`begin`) and taken back when it succeeds or
/// is not tried (`succeeded`, `abandoned`), so concurrent guesses cannot slip past a limit while
/// bcrypt runs. The clock is injected, so tests move time instead of sleeping.
final class LoginThrottle: Sendable {
    struct Limits: Sendable, Equatable {
        var perAccount = 5
        var perAddress = 20
        var window: TimeInterval = 15 * 60
        /// A header a reverse proxy sets to the client's address (`X-Forwarded-For`: its last entry);
        /// nil uses the connection's peer address. Only set it behind a proxy that sets it.
        var addressHeader: String?

        var accountLimit: RateLimit { RateLimit(perSecond: Double(perAccount) / window, burst: perAccount) }
        var addressLimit: RateLimit { RateLimit(perSecond: Double(perAddress) / window, burst: perAddress) }
    }

    /// An attempt refused for now.
    struct Limited: Error {
        /// Whole seconds until an attempt may be made again (at least 1).
        var retryAfter: Int
        /// `account` or `address`.
        var scope: String
    }

    let limits: Limits
    private let ledger: any RateLimitLedger
    /// The buckets that refused here lately: guesses from a blocked address cost the ledger nothing.
    private let refusals = RecentRefusals()
    private let now: @Sendable () -> Date

    init(limits: Limits, ledger: any RateLimitLedger = InProcessRateLimitLedger(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.limits = limits
        self.ledger = ledger
        self.now = now
    }

    /// Counts an attempt for `account` (an e-mail address) from `address`. Throws `Limited`, or
    /// `APIError.limitsUnavailable` when the ledger cannot be reached (no attempt goes unchecked).
    func begin(account: String, address: String?) async throws {
        // The address first: an attacker can name many accounts, not many addresses.
        let buckets = (address.map { [(name: addressBucket($0), limit: limits.addressLimit, scope: "address")] } ?? [])
            + [(name: accountBucket(account), limit: limits.accountLimit, scope: "account")]
        if let refused = try await RateLimitLedgers.take(buckets.map { ($0.name, $0.limit) }, from: ledger, at: now(), refusals: refusals) {
            throw Limited(retryAfter: refused.retryAfter, scope: buckets[refused.bucket].scope)
        }
    }

    /// The password was right: the account starts afresh, and the attempt no longer counts against
    /// the address. (Should the ledger fail here, the limits stay stricter, never looser.)
    func succeeded(account: String, address: String?) async {
        refusals.forget(accountBucket(account))
        try? await ledger.remove(accountBucket(account))
        if let address { await giveBack(addressBucket(address), limit: limits.addressLimit) }
    }

    /// The attempt was not made after all (the password threads were busy): it does not count.
    func abandoned(account: String, address: String?) async {
        await giveBack(accountBucket(account), limit: limits.accountLimit)
        if let address { await giveBack(addressBucket(address), limit: limits.addressLimit) }
    }

    private func giveBack(_ bucket: String, limit: RateLimit) async {
        refusals.forget(bucket)
        try? await ledger.refund(bucket, limit: limit)
    }

    /// Accounts are e-mail addresses, compared as the agents table does (case-insensitively).
    private func accountBucket(_ account: String) -> String {
        RateLimitLedgers.bucket("login/account", account.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
    }

    private func addressBucket(_ address: String) -> String { RateLimitLedgers.bucket("login/address", address) }
}
