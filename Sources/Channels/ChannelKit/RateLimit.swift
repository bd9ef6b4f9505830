import Foundation

/// A token-bucket limit: `perSecond` tokens refill each second, up to `burst` saved.
public struct RateLimit: Sendable, Equatable, Codable {
    public var perSecond: Double
    public var burst: Int

    /// The rates a limit may have: from one request in about 28 hours (the widget's and the logins'
    /// hourly limits are below one in 17 minutes) to far beyond any platform's.
    public static let allowedRates: ClosedRange<Double> = 0.00001...100_000

    /// `perSecond` outside `allowedRates` (or not finite) is brought into it, so the bucket's
    /// arithmetic stays in range; the config loader refuses such values with the key named.
    public init(perSecond: Double, burst: Int? = nil) {
        self.perSecond = perSecond.isFinite ? min(max(perSecond, Self.allowedRates.lowerBound), Self.allowedRates.upperBound) : 1
        self.burst = max(1, min(burst ?? Int(self.perSecond.rounded(.up)), 1_000_000))
    }

    /// How long a caller waits for the token it just reserved, given the bucket's balance after the
    /// reservation: zero while the balance is not negative, otherwise the time the debt takes to
    /// refill. Every ledger answers through this, so all of them round alike.
    public func wait(afterReservingTo balance: Double) -> Duration {
        if balance >= 0 { return .zero }
        return .nanoseconds(Int64((-balance / perSecond) * 1e9))
    }

    /// A ledger's time: whole Unix milliseconds (what a database column keeps, so every ledger
    /// refills by the same elapsed time).
    public static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        return Int64(exactly: value) ?? (value > 0 ? .max : .min)
    }
}

/// The bookkeeping of a token bucket, separate from time so that it can be tested exactly. This is
/// the arithmetic every `RateLimitLedger` keeps (the PostgreSQL ledger in one SQL statement):
/// refill by the milliseconds elapsed since the last reservation (never negative: a clock behind
/// the last one refills nothing), capped at `burst`, then take one token.
public struct TokenBucketState: Sendable {
    public var limit: RateLimit
    /// The balance: negative when reservations are waiting for tokens not yet refilled.
    public private(set) var tokens: Double
    /// Unix milliseconds of the latest reservation seen.
    private var updatedAt: Int64?

    public init(limit: RateLimit) {
        self.limit = limit
        self.tokens = Double(limit.burst)
    }

    /// Takes one token at `now`. Returns zero when a token was free, otherwise how long the caller
    /// must wait; the token is reserved either way, so waiting callers queue up fairly.
    public mutating func reserve(at now: Date) -> Duration {
        let now = RateLimit.milliseconds(now)
        if let last = updatedAt {
            tokens = min(Double(limit.burst), tokens + Double(max(0, now - last)) / 1000 * limit.perSecond)
            updatedAt = max(last, now)
        } else {
            tokens = min(Double(limit.burst), tokens)
            updatedAt = now
        }
        tokens -= 1
        return limit.wait(afterReservingTo: tokens)
    }

    /// Gives back a reserved token that was not used.
    public mutating func refund() {
        tokens = min(Double(limit.burst), tokens + 1)
    }

    /// Unix milliseconds at which the bucket has refilled to its burst, if nothing more is taken:
    /// from then on it is the same as a fresh bucket, so a ledger may forget it. Nil before any
    /// reservation (it is full).
    public var fullAt: Int64? {
        updatedAt.map { $0 + Self.refillMilliseconds(from: tokens, to: limit) }
    }

    /// The whole milliseconds `limit` takes to refill a balance of `tokens` to its burst (rounded
    /// up), computed as the PostgreSQL ledger computes it.
    public static func refillMilliseconds(from tokens: Double, to limit: RateLimit) -> Int64 {
        let value = ((Double(limit.burst) - tokens) * 1000 / limit.perSecond).rounded(.up)
        return value > 0 ? Int64(exactly: value) ?? .max : 0
    }
}

/// A token bucket shared by all senders of one account. Its balance lives in a `RateLimitLedger`
/// under the bucket's name: in this process (`InProcessRateLimitLedger`, a bridge on SQLite) or in
/// the database every bridge process shares (PostgreSQL), so an account's limit holds for the
/// whole cluster. The bucket itself only reads the clock and waits.
public final class TokenBucket: Sendable {
    public let limit: RateLimit
    /// The bucket's name in the ledger, e.g. `whatsapp/main` or `batch:line/main`.
    public let name: String
    private let ledger: any RateLimitLedger
    private let clock: @Sendable () -> Date

    /// A bucket of its own, in this process.
    public convenience init(limit: RateLimit) {
        self.init(limit: limit, name: "bucket", ledger: InProcessRateLimitLedger())
    }

    /// A bucket kept in `ledger` under `name`; `clock` is the time reservations are made at.
    public init(limit: RateLimit, name: String, ledger: any RateLimitLedger, clock: @escaping @Sendable () -> Date = TokenBucket.steadyNow) {
        self.limit = limit
        self.name = name
        self.ledger = ledger
        self.clock = clock
    }

    /// Waits until a token is available. Throws a retryable `SendError` when the ledger cannot be
    /// reached (its database is down), and `CancellationError` when cancelled while waiting.
    public func acquire() async throws {
        let wait: Duration
        do {
            wait = try await ledger.reserve(name, limit: limit, at: clock())
        } catch {
            throw SendError.retryable("rate_limit_unavailable", "could not take a token from the account's rate limit")
        }
        if wait > .zero { try await Task.sleep(for: wait) }
    }

    /// Waits for a token unless `stopped` turns true first (checked every 100 ms); then the token
    /// is given back and the answer is false. While the ledger cannot be reached it asks again
    /// every second, until it answers or `stopped` turns true.
    public func acquire(unless stopped: @Sendable () -> Bool) async -> Bool {
        var reserved: Duration?
        while reserved == nil {
            if stopped() || Task.isCancelled { return false }
            do {
                reserved = try await ledger.reserve(name, limit: limit, at: clock())
            } catch {
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let deadline = ContinuousClock.now + (reserved ?? .zero)
        while !stopped() {
            guard ContinuousClock.now < deadline else { return true }
            try? await Task.sleep(for: min(.milliseconds(100), deadline - .now))
        }
        try? await ledger.refund(name, limit: limit)
        return false
    }

    /// The wall clock as it stood when first asked, moved on by the monotonic clock since: it never
    /// steps back or jumps when the system clock is set, and processes on hosts whose clocks agree
    /// read about the same time (what a shared ledger compares).
    public static let steadyNow: @Sendable () -> Date = {
        let start = Date()
        let instant = ContinuousClock.now
        return {
            let elapsed = instant.duration(to: .now)
            return start.addingTimeInterval(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }()
}
