import Foundation
import Synchronization

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
    /// (`LedgerJanitor`). Answers how many went.
    func removeFull(at now: Date) async throws -> Int
}

extension RateLimitLedger {
    /// One token from each of `buckets` at `now`, or none, for limits that refuse rather than queue
    /// (the widget's and the logins'): when a bucket would make the caller wait, the tokens taken so
    /// far and its own are given back, and the answer is that bucket's index and wait. Nil: all taken.
    /// A ledger that fails half-way is asked to give back each token taken before the error is
    /// thrown on, once (a refund that fails too leaves the limit stricter, never looser).
    ///
    /// With `refusals`, a bucket that refused a caller of this process refuses again until its wait
    /// is over without asking the ledger, so a flood of refused requests (password guesses from a
    /// blocked address) costs the shared database nothing more.
    public func takeAll(
        _ buckets: [(name: String, limit: RateLimit)], at now: Date, refusals: RecentRefusals? = nil
    ) async throws -> (bucket: Int, wait: Duration)? {
        if let refusals, let known = refusals.wait(for: buckets.map(\.name), at: now) { return known }
        var taken: [(name: String, limit: RateLimit)] = []
        var refused: (bucket: Int, wait: Duration)?
        var failure: (any Error)?
        for (index, bucket) in buckets.enumerated() {
            do {
                let wait = try await reserve(bucket.name, limit: bucket.limit, at: now)
                taken.append(bucket)
                if wait > .zero {
                    refused = (index, wait)
                    break
                }
            } catch {
                failure = error
                break
            }
        }
        guard refused != nil || failure != nil else { return nil }
        for bucket in taken {
            do {
                try await refund(bucket.name, limit: bucket.limit)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        if let refusals, let refused { refusals.remember(buckets[refused.bucket].name, at: now, for: refused.wait) }
        return refused
    }
}

/// Refusals this process met, by bucket, until their wait ends but for at most `longest`
/// (`RateLimitLedger.takeAll`). A bucket that refused cannot have a token before then, except one
/// given back or cleared elsewhere (a caller that did not use its token, a right password on
/// another process), which this process then sees up to `longest` late: the limit stays stricter,
/// never looser. At most `maxBuckets` are kept (past that, the ended ones go, then all).
public final class RecentRefusals: Sendable {
    private let until = Mutex([String: Date]())
    private let maxBuckets: Int
    private let longest: Duration

    public init(maxBuckets: Int = 10_000, longest: Duration = .seconds(30)) {
        self.maxBuckets = maxBuckets
        self.longest = longest
    }

    /// The first of `names` still refusing at `now`, and how long it will.
    func wait(for names: [String], at now: Date) -> (bucket: Int, wait: Duration)? {
        until.withLock { until in
            for (index, name) in names.enumerated() {
                guard let end = until[name] else { continue }
                if end > now { return (index, .seconds(end.timeIntervalSince(now))) }
                until[name] = nil
            }
            return nil
        }
    }

    /// Forgets `name`'s refusal: this process gave the bucket a token back, or cleared it.
    public func forget(_ name: String) {
        _ = until.withLock { $0.removeValue(forKey: name) }
    }

    func remember(_ name: String, at now: Date, for wait: Duration) {
        let end = now.addingTimeInterval(min(wait, longest).timeInterval)
        until.withLock { until in
            if until.count >= maxBuckets {
                until = until.filter { $0.value > now }
                if until.count >= maxBuckets { until.removeAll() }
            }
            until[name] = end
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
