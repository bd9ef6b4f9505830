import ChannelKit
import Foundation
import Synchronization
import Testing

/// `TokenBucket` waits on what its ledger answers: the reservation is made in the ledger under the
/// bucket's name, at the bucket's clock, and given back there when the caller stops waiting.
@Suite struct TokenBucketTests {
    private let limit = RateLimit(perSecond: 80)
    private let moment = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func reservesInItsLedgerUnderItsNameAtItsClock() async throws {
        let ledger = RecordingLedger(wait: .zero)
        let bucket = TokenBucket(limit: limit, name: "whatsapp/main", ledger: ledger, clock: { [moment] in moment })
        try await bucket.acquire()
        #expect(await bucket.acquire(unless: { false }))
        #expect(ledger.calls == ["reserve whatsapp/main 80.0/s at 1800000000.0", "reserve whatsapp/main 80.0/s at 1800000000.0"])
    }

    /// Stopped while waiting: the reserved token goes back to the ledger, so the next caller has it.
    @Test func givesTheTokenBackToItsLedgerWhenStopped() async {
        let ledger = RecordingLedger(wait: .seconds(3600))
        let bucket = TokenBucket(limit: limit, name: "batch:line/main", ledger: ledger, clock: { [moment] in moment })
        let checks = Mutex(0)
        let acquired = await bucket.acquire(unless: { checks.withLock { $0 += 1; return $0 > 1 } })
        #expect(!acquired)
        #expect(ledger.calls == ["reserve batch:line/main 80.0/s at 1800000000.0", "refund batch:line/main"])
    }

    /// A ledger that cannot be reached (its database is down) is a retryable send error.
    @Test func anUnreachableLedgerIsRetryable() async {
        let bucket = TokenBucket(limit: limit, name: "sms/main", ledger: RecordingLedger(wait: nil), clock: { [moment] in moment })
        await #expect(throws: SendError.retryable("rate_limit_unavailable", "could not take a token from the account's rate limit")) {
            try await bucket.acquire()
        }
    }
}

/// Answers every reservation with `wait` (throws when nil) and records the calls.
private final class RecordingLedger: RateLimitLedger {
    let wait: Duration?
    private let log = Mutex<[String]>([])
    var calls: [String] { log.withLock { $0 } }

    init(wait: Duration?) { self.wait = wait }

    func reserve(_ name: String, limit: RateLimit, at now: Date) async throws -> Duration {
        log.withLock { $0.append("reserve \(name) \(limit.perSecond)/s at \(now.timeIntervalSince1970)") }
        guard let wait else { throw Unreachable() }
        return wait
    }

    func refund(_ name: String, limit: RateLimit) async throws {
        log.withLock { $0.append("refund \(name)") }
    }

    func remove(_ name: String) async throws {
        log.withLock { $0.append("remove \(name)") }
    }

    func removeFull(at now: Date) async throws -> Int { 0 }

    struct Unreachable: Error {}
}
