import ChannelKit
import Foundation
import TestSupport
import Testing

/// `ms` milliseconds after the contract tests' moment zero.
private func at(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(1_800_000_000_000 + ms) / 1000) }

/// `RateLimitLedger` as every implementation must keep it: `TokenBucketState`'s arithmetic to the
/// last bit (a burst, then one token per 1/rate seconds, waiters queued, a refund given to the next
/// caller, never more than the burst saved), and one account's limit held across every sender
/// sharing the ledger: on PostgreSQL across two processes (two clients), which SQLite never has
/// (one process serves a SQLite database, so its ledger is that process's memory). Times are given,
/// never waited for.
@Suite struct RateLimitContractTests {
    private let small = RateLimit(perSecond: 8, burst: 4)  // one token per 125 ms: exact in binary

    @Test(arguments: StoreKind.available)
    func burstThenOneTokenPerIntervalWithWaitersQueued(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.rateLimits
            for _ in 0..<4 { #expect(try await ledger.reserve("line/main", limit: small, at: at(0)) == .zero) }
            // The 5th and 6th callers at the same instant queue: 125 ms and 250 ms.
            #expect(try await ledger.reserve("line/main", limit: small, at: at(0)) == .milliseconds(125))
            #expect(try await ledger.reserve("line/main", limit: small, at: at(0)) == .milliseconds(250))
            // 250 ms later the waiters' two tokens have refilled; the next caller waits behind them.
            #expect(try await ledger.reserve("line/main", limit: small, at: at(250)) == .milliseconds(125))
            // 750 ms later six tokens refilled, but the bucket keeps at most four.
            for _ in 0..<4 { #expect(try await ledger.reserve("line/main", limit: small, at: at(1000)) == .zero) }
            #expect(try await ledger.reserve("line/main", limit: small, at: at(1000)) == .milliseconds(125))
            // An hour idle saves no more than the burst either.
            for _ in 0..<4 { #expect(try await ledger.reserve("line/main", limit: small, at: at(3_601_000)) == .zero) }
            #expect(try await ledger.reserve("line/main", limit: small, at: at(3_601_000)) == .milliseconds(125))
            // Another account's bucket is its own.
            #expect(try await ledger.reserve("line/other", limit: small, at: at(3_601_000)) == .zero)
        }
    }

    /// The platforms' figures: WhatsApp's 80 per second, 1/80 s apart once the burst is spent.
    @Test(arguments: StoreKind.available)
    func eightyPerSecond(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.rateLimits
            let limit = RateLimit(perSecond: 80, burst: 80)
            for _ in 0..<80 { #expect(try await ledger.reserve("whatsapp/main", limit: limit, at: at(0)) == .zero) }
            #expect(try await ledger.reserve("whatsapp/main", limit: limit, at: at(0)) == .milliseconds(12.5))
            #expect(try await ledger.reserve("whatsapp/main", limit: limit, at: at(0)) == .milliseconds(25))
            // One second later the debt is paid and 78 tokens are back.
            var free = 0
            while try await ledger.reserve("whatsapp/main", limit: limit, at: at(1000)) == .zero { free += 1 }
            #expect(free == 78)
        }
    }

    @Test(arguments: StoreKind.available)
    func refundGoesToTheNextCallerAndNeverAboveTheBurst(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.rateLimits
            for _ in 0..<5 { _ = try await ledger.reserve("sms/alerts", limit: small, at: at(0)) }
            #expect(try await ledger.reserve("sms/alerts", limit: small, at: at(0)) == .milliseconds(250))
            // The 250 ms waiter gave up: the next caller takes its place.
            try await ledger.refund("sms/alerts", limit: small)
            #expect(try await ledger.reserve("sms/alerts", limit: small, at: at(0)) == .milliseconds(250))
            // Refunds to a nearly full bucket stop at the burst.
            _ = try await ledger.reserve("email", limit: small, at: at(0))
            for _ in 0..<3 { try await ledger.refund("email", limit: small) }
            for _ in 0..<4 { #expect(try await ledger.reserve("email", limit: small, at: at(0)) == .zero) }
            #expect(try await ledger.reserve("email", limit: small, at: at(0)) == .milliseconds(125))
            // A refund to a bucket never used changes nothing.
            try await ledger.refund("never-used", limit: small)
            for _ in 0..<4 { #expect(try await ledger.reserve("never-used", limit: small, at: at(0)) == .zero) }
            #expect(try await ledger.reserve("never-used", limit: small, at: at(0)) == .milliseconds(125))
        }
    }

    /// A process whose clock is behind the bucket's latest reservation refills nothing and leaves
    /// the bucket's time where it was: clocks that disagree make the limit stricter, not looser.
    @Test(arguments: StoreKind.available)
    func aClockBehindRefillsNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.rateLimits
            for _ in 0..<4 { #expect(try await ledger.reserve("messenger/page", limit: small, at: at(2000)) == .zero) }
            #expect(try await ledger.reserve("messenger/page", limit: small, at: at(1875)) == .milliseconds(125))
            // Refilled from 2000 (one token), not from 1875 (two).
            #expect(try await ledger.reserve("messenger/page", limit: small, at: at(2125)) == .milliseconds(125))
        }
    }

    /// Irregular times, an irregular rate and refunds: every answer is `TokenBucketState`'s exactly.
    @Test(arguments: StoreKind.available)
    func agreesWithTheBucketArithmeticToTheLastBit(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.rateLimits
            let limit = RateLimit(perSecond: 7.3, burst: 3)
            var reference = TokenBucketState(limit: limit)
            var generator = SplitMix64(seed: 12)
            var now: Int64 = 0
            for step in 0..<200 {
                now += Int64(generator.next() % 400)
                if generator.next() % 5 == 0 {
                    try await ledger.refund("wechat/oa", limit: limit)
                    reference.refund()
                } else {
                    let expected = reference.reserve(at: at(now))
                    #expect(try await ledger.reserve("wechat/oa", limit: limit, at: at(now)) == expected, "step \(step)")
                }
            }
        }
    }

    /// Eight senders of one account in one process, each reserving, waiting what it is told and
    /// sending, then reserving again: together 80 per second (±5%), however many they are.
    @Test(arguments: StoreKind.available)
    func sendersOfOneProcessShareTheAccountsLimit(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let rate = try await sendRate(ledgers: [stores.rateLimits], sendersEach: 8)
            #expect(abs(rate - 80) <= 4, "\(rate) sends per second")
        }
    }

    /// Two bridge processes (two clients, so two ledgers on one database), four senders each, all
    /// reserving concurrently for one account limited to 80/s: together 80 per second (±5%), not 160.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesTogetherStayWithinTheAccountsLimit() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let rate = try await sendRate(ledgers: processes.map(\.rateLimits), sendersEach: 4)
            #expect(abs(rate - 80) <= 4, "\(rate) sends per second")
        }
    }

    /// Simulates `sendersEach` senders per ledger for 21 s of a clock the test moves in 50 ms
    /// ticks: at each tick the senders whose wait is over reserve concurrently (at the tick) and
    /// send when their new wait ends. Answers the sends per second from 1 s on (after the burst).
    private func sendRate(ledgers: [any RateLimitLedger], sendersEach: Int) async throws -> Double {
        let limit = RateLimit(perSecond: 80, burst: 80)
        let senders = ledgers.count * sendersEach
        var nextReservation = [Double](repeating: 0, count: senders)  // ms on the test's clock
        var sendsInWindow = 0
        for tick in stride(from: Int64(0), to: 21_000, by: 50) {
            let due = (0..<senders).filter { nextReservation[$0] <= Double(tick) }
            let waits = try await withThrowingTaskGroup(of: (Int, Duration).self) { group in
                for sender in due {
                    let ledger = ledgers[sender % ledgers.count]
                    group.addTask { (sender, try await ledger.reserve("whatsapp/main", limit: limit, at: at(tick))) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (sender, wait) in waits {
                let sentAt = Double(tick) + Double(wait.components.seconds) * 1000 + Double(wait.components.attoseconds) / 1e15
                nextReservation[sender] = sentAt
                if sentAt >= 1000 && sentAt < 21_000 { sendsInWindow += 1 }
            }
        }
        return Double(sendsInWindow) / 20
    }
}
