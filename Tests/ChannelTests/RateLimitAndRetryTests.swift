import ChannelKit
import Foundation
import Testing

@Suite struct RateLimitAndRetryTests {
    @Test func bucketAllowsBurstThenPacesAtRate() {
        var bucket = TokenBucketState(limit: RateLimit(perSecond: 80, burst: 80))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for _ in 0..<80 { #expect(bucket.reserve(at: start) == .zero) }
        // The 81st token at the same instant is 1/80 s away, the 82nd 2/80 s.
        #expect(bucket.reserve(at: start) == .milliseconds(12.5))
        #expect(bucket.reserve(at: start) == .milliseconds(25))
        // One second later the debt is paid and 78 tokens are back.
        var later = start.addingTimeInterval(1)
        var free = 0
        while bucket.reserve(at: later) == .zero { free += 1 }
        #expect(free == 78)
        later.addTimeInterval(10)
        #expect(bucket.reserve(at: later) == .zero)
    }

    @Test func bucketNeverSavesMoreThanBurst() {
        var bucket = TokenBucketState(limit: RateLimit(perSecond: 10, burst: 5))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        _ = bucket.reserve(at: start)
        let later = start.addingTimeInterval(3600)
        var free = 0
        while bucket.reserve(at: later) == .zero { free += 1 }
        #expect(free == 5)
    }

    @Test func backoffGrowsWithJitterAndCap() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(60), maxAttempts: 8)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, jitter: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, jitter: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 4, retryAfter: nil, jitter: 1) == .seconds(8))
        #expect(policy.delay(afterAttempt: 20, retryAfter: nil, jitter: 1) == .seconds(60))
    }

    @Test func retryAfterIsAFloor() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(60))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(30), jitter: 1) == .seconds(30))
        #expect(policy.delay(afterAttempt: 7, retryAfter: .seconds(2), jitter: 1) == .seconds(60))
    }

    @Test func decisionRetriesThenGivesUp() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(60), maxAttempts: 3)
        let throttled = SendError.retryable("http_429", "slow down", after: .seconds(5))
        #expect(policy.decide(after: throttled, attempt: 1, jitter: 1) == .retry(after: .seconds(5)))
        #expect(policy.decide(after: throttled, attempt: 3, jitter: 1) == .giveUp(.permanent("http_429", "gave up after 3 attempts: slow down")))
        let badToken = SendError.permanent("http_401", "bad token")
        #expect(policy.decide(after: badToken, attempt: 1) == .giveUp(badToken))
    }

    @Test func attemptsAreBounded() {
        let policy = RetryPolicy(maxAttempts: 3)
        #expect(policy.shouldRetry(afterAttempt: 2))
        #expect(!policy.shouldRetry(afterAttempt: 3))
    }
}
