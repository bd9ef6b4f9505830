import Foundation

/// Exponential backoff with full jitter, honouring a platform's `Retry-After`.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maxDelay: Duration
    /// Attempts in all, the first included; after the last a retryable error becomes a failure.
    public var maxAttempts: Int

    public init(initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300), maxAttempts: Int = 8) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// Delay before attempt `attempt + 1`, after `attempt` failed attempts (1-based).
    /// `jitter` is a number in 0...1 (random in production). Never sooner than `retryAfter`.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, jitter: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(initialDelay * (1 << exponent), maxDelay)
        // Full jitter within the upper half of the window keeps a floor under the backoff.
        let jittered = ceiling * (0.5 + 0.5 * jitter)
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    public func shouldRetry(afterAttempt attempt: Int) -> Bool { attempt < maxAttempts }

    /// What to do after attempt `attempt` (1-based) failed with `error`: try again after a delay,
    /// or give up with the error to record (a retryable one that ran out of attempts says so).
    public func decide(after error: SendError, attempt: Int, jitter: Double = Double.random(in: 0...1)) -> RetryDecision {
        if case .retryable(let retryAfter) = error.disposition, shouldRetry(afterAttempt: attempt) {
            return .retry(after: delay(afterAttempt: attempt, retryAfter: retryAfter, jitter: jitter))
        }
        guard error.isRetryable else { return .giveUp(error) }
        return .giveUp(.permanent(error.code, "gave up after \(attempt) attempts: \(error.reason)"))
    }
}

/// The outcome of `RetryPolicy.decide`.
public enum RetryDecision: Sendable, Equatable {
    case retry(after: Duration)
    case giveUp(SendError)
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic.
    public var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
