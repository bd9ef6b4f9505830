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

    /// Forgets bucket `name`: its next reservation finds it full (a right password clears its
    /// account's failed logins).
    func remove(_ name: String) async throws

    /// Forgets every bucket that has refilled to its burst by `now`, which a fresh bucket equals, so
    /// buckets named after visitors, client addresses and e-mail addresses do not pile up
    /// (`RateLimitJanitor`). Answers how many went.
    func removeFull(at now: Date) async throws -> Int
}

extension RateLimitLedger {
    /// One token from each of `buckets` at `now`, or none, for limits that refuse rather than queue
    /// (the widget's and the logins'): when a bucket would make the caller wait, the tokens taken so
    /// far and its own are given back, and the answer is that bucket's index and wait. Nil: all taken.
    /// A ledger that fails half-way gets back what was taken before the error is thrown on.
    public func takeAll(_ buckets: [(name: String, limit: RateLimit)], at now: Date) async throws -> (bucket: Int, wait: Duration)? {
        var taken: [(name: String, limit: RateLimit)] = []
        do {
            for (index, bucket) in buckets.enumerated() {
                let wait = try await reserve(bucket.name, limit: bucket.limit, at: now)
                taken.append(bucket)
                if wait > .zero {
                    for bucket in taken { try await refund(bucket.name, limit: bucket.limit) }
                    return (index, wait)
                }
            }
            return nil
        } catch {
            for bucket in taken { try? await refund(bucket.name, limit: bucket.limit) }
            throw error
        }
    }
}

/// The balances in this process's memory: one bridge process's buckets (a bridge on SQLite, where
/// one process serves the database), and the ledger of a `TokenBucket` made on its own. At most
/// `maxBuckets` are kept: past that, a new bucket first forgets the full ones, then the quarter
/// that refill soonest (those pressed least lately), so names a stranger chooses cannot grow memory
/// without bound between `removeFull` runs.
public actor InProcessRateLimitLedger: RateLimitLedger {
    private var buckets: [String: TokenBucketState] = [:]
    private let maxBuckets: Int

    public init(maxBuckets: Int = 100_000) {
        self.maxBuckets = maxBuckets
    }

    /// How many buckets are kept now.
    public var bucketCount: Int { buckets.count }

    public func reserve(_ name: String, limit: RateLimit, at now: Date) -> Duration {
        var state = buckets[name] ?? TokenBucketState(limit: limit)
        state.limit = limit
        let wait = state.reserve(at: now)
        if buckets[name] == nil, buckets.count >= maxBuckets { makeRoom(at: now) }
        buckets[name] = state
        return wait
    }

    public func refund(_ name: String, limit: RateLimit) {
        guard var state = buckets[name] else { return }
        state.limit = limit
        state.refund()
        buckets[name] = state
    }

    public func remove(_ name: String) {
        buckets[name] = nil
    }

    public func removeFull(at now: Date) -> Int {
        let now = RateLimit.milliseconds(now)
        let before = buckets.count
        buckets = buckets.filter { ($0.value.fullAt ?? .min) > now }
        return before - buckets.count
    }

    private func makeRoom(at now: Date) {
        guard removeFull(at: now) == 0 else { return }
        let soonest = buckets.sorted { ($0.value.fullAt ?? .min) < ($1.value.fullAt ?? .min) }.prefix(max(1, maxBuckets / 4))
        for (name, _) in soonest { buckets[name] = nil }
    }
}
