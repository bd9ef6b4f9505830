import Foundation

/// Where token buckets keep their balances, by bucket name (an account's key): the part of a rate
/// limit that must be shared by every process sending for the account, so that two bridge processes
/// together stay within the account's limit instead of each spending it in full.
///
/// Two implementations, held to one contract suite (Tests/StoreTests/Contract/RateLimitContractTests):
/// - `InProcessRateLimitLedger` (here): the balances in memory. What a bridge on SQLite uses: one
///   process serves a SQLite database (`ServingLock`), so that process is the whole cluster and the
///   SQLite schema has no table for rate limits.
/// - `PostgresRateLimitLedger` (PostgresStore): each bucket's balance and last refill time in a
///   table, a reservation one atomic statement, shared by every process on the database.
///
/// Both keep `TokenBucketState`'s arithmetic and answer waits through `RateLimit.wait(afterReservingTo:)`.
/// Times are passed in, never read inside, so the contract is tested with a clock the test moves.
/// The limit comes with each call (it is configuration, the same in every process).
public protocol RateLimitLedger: Sendable {
    /// Takes one token from bucket `name` at `now`, first refilling it for the time elapsed since its
    /// last reservation (capped at `limit.burst`). Answers zero when a token was free, otherwise how
    /// long the caller must wait for it: the token is reserved either way, so waiters queue fairly.
    func reserve(_ name: String, limit: RateLimit, at now: Date) async throws -> Duration

    /// Gives back a reserved token that was not used (never above `limit.burst`).
    func refund(_ name: String, limit: RateLimit) async throws
}

/// The balances in this process's memory: one bridge process's buckets (a bridge on SQLite, where
/// one process serves the database), and the ledger of a `TokenBucket` made on its own.
public actor InProcessRateLimitLedger: RateLimitLedger {
    private var buckets: [String: TokenBucketState] = [:]

    public init() {}

    public func reserve(_ name: String, limit: RateLimit, at now: Date) -> Duration {
        var state = buckets[name] ?? TokenBucketState(limit: limit)
        state.limit = limit
        let wait = state.reserve(at: now)
        buckets[name] = state
        return wait
    }

    public func refund(_ name: String, limit: RateLimit) {
        guard var state = buckets[name] else { return }
        state.limit = limit
        state.refund()
        buckets[name] = state
    }
}
