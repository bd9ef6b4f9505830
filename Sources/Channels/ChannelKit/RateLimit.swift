import Foundation

/// A token-bucket limit: `perSecond` tokens refill each second, up to `burst` saved.
public struct RateLimit: Sendable, Equatable, Codable {
    public var perSecond: Double
    public var burst: Int

    /// The rates a limit may have: from one request in about 17 minutes to far beyond any platform's.
    public static let allowedRates: ClosedRange<Double> = 0.001...100_000

    /// `perSecond` outside `allowedRates` (or not finite) is brought into it, so the bucket's
    /// arithmetic stays in range; the config loader refuses such values with the key named.
    public init(perSecond: Double, burst: Int? = nil) {
        self.perSecond = perSecond.isFinite ? min(max(perSecond, Self.allowedRates.lowerBound), Self.allowedRates.upperBound) : 1
        self.burst = max(1, min(burst ?? Int(self.perSecond.rounded(.up)), 1_000_000))
    }
}

/// The bookkeeping of a token bucket, separate from time so that it can be tested exactly.
public struct TokenBucketState: Sendable {
    public let limit: RateLimit
    private var tokens: Double
    private var updatedAt: ContinuousClock.Instant?

    public init(limit: RateLimit) {
        self.limit = limit
        self.tokens = Double(limit.burst)
    }

    /// Takes one token at `now`. Returns zero when a token was free, otherwise how long the caller
    /// must wait; the token is reserved either way, so waiting callers queue up fairly.
    public mutating func reserve(at now: ContinuousClock.Instant) -> Duration {
        if let last = updatedAt {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(Double(limit.burst), tokens + seconds * limit.perSecond)
        }
        updatedAt = now
        tokens -= 1
        if tokens >= 0 { return .zero }
        return .nanoseconds(Int64((-tokens / limit.perSecond) * 1e9))
    }

    /// Gives back a reserved token that was not used.
    public mutating func refund() {
        tokens = min(Double(limit.burst), tokens + 1)
    }
}

/// A token bucket shared by all senders of one account.
public actor TokenBucket {
    private var state: TokenBucketState

    public init(limit: RateLimit) {
        self.state = TokenBucketState(limit: limit)
    }

    /// Waits until a token is available.
    public func acquire() async throws {
        let wait = state.reserve(at: .now)
        if wait > .zero { try await Task.sleep(for: wait) }
    }

    /// Waits for a token unless `stopped` turns true first (checked every 100 ms); then the token
    /// is given back and the answer is false.
    public func acquire(unless stopped: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + state.reserve(at: .now)
        while !stopped() {
            guard ContinuousClock.now < deadline else { return true }
            try? await Task.sleep(for: min(.milliseconds(100), deadline - .now))
        }
        state.refund()
        return false
    }
}
