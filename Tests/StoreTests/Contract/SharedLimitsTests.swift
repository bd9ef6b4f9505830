@testable import BridgeServer
import ChannelKit
import Foundation
import TestSupport
import Testing

/// The limits that guard a secret or someone else (password guesses, codes tried, mail to addresses
/// strangers type) are kept in the ledger, so on PostgreSQL two bridge processes (two clients, two
/// ledgers on one database) count the same attempts and together allow what one process does.
/// And buckets that have refilled are forgotten, on both databases, without loosening a limit.
@Suite struct SharedLimitsTests {
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesCountTheSameFailedLogins() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let clock = ManualClock()
            let limits = LoginThrottle.Limits(perAccount: 4, perAddress: 100, window: 900)  // one more every 225 s
            let throttles = processes.map { LoginThrottle(limits: limits, ledger: $0.rateLimits, now: { clock.now }) }
            for attempt in 0..<4 { try await throttles[attempt % 2].begin(account: "ann@example.com", address: "192.0.2.\(attempt)") }
            for throttle in throttles {
                do {
                    try await throttle.begin(account: "ann@example.com", address: "192.0.2.9")
                    Issue.record("a fifth guess went through")
                } catch let error as LoginThrottle.Limited {
                    #expect(error.scope == "account")
                    #expect(error.retryAfter == 225)
                }
            }
            // A token later, the right password on one process clears the account on both.
            clock.advance(by: 225)
            try await throttles[0].begin(account: "ann@example.com", address: nil)
            await throttles[0].succeeded(account: "ann@example.com", address: nil)
            for _ in 0..<4 { try await throttles[1].begin(account: "ann@example.com", address: nil) }
        }
    }

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesCountTheSameCodeAttemptsAndMails() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let clock = ManualClock()
            let throttles = processes.map { WidgetThrottle(ledger: $0.rateLimits, now: { clock.now }) }
            // Five codes an hour per visitor, across processes: one every 12 minutes after those.
            for attempt in 0..<5 { try await throttles[attempt % 2].codeAttempt(account: "webchat/site", visitorId: "v1", recipient: "ann@example.com") }
            for throttle in throttles {
                do {
                    try await throttle.codeAttempt(account: "webchat/site", visitorId: "v1", recipient: "ann@example.com")
                    Issue.record("a sixth code was tried within the hour")
                } catch let error as WidgetThrottle.Limited {
                    #expect(error.retryAfter == 720)
                }
            }
            // Ten an hour for one address, however many visitors try: five more from new visitors, then none.
            for visitor in 2...6 { try await throttles[visitor % 2].codeAttempt(account: "webchat/site", visitorId: "v\(visitor)", recipient: "ANN@example.com") }
            await #expect(throws: WidgetThrottle.Limited.self) {
                try await throttles[1].codeAttempt(account: "webchat/site", visitorId: "v7", recipient: "ann@example.com")
            }
            try await throttles[1].codeAttempt(account: "webchat/site", visitorId: "v7", recipient: "bob@example.com")

            // One confirmation mail an hour to an address, whichever process and visitor asks.
            try await throttles[0].confirmation(account: "webchat/site", visitorId: "v1", recipient: "Ann@Example.com", address: "192.0.2.1")
            do {
                try await throttles[1].confirmation(account: "webchat/site", visitorId: "v2", recipient: "ann@example.com", address: "192.0.2.2")
                Issue.record("a second confirmation mail went to one address within the hour")
            } catch let error as WidgetThrottle.Limited {
                #expect(error.retryAfter == 3600)
            }
            // Two mails an hour for a visitor: v1's second empties its bucket, so its third is refused
            // by that bucket after the recipient's was taken, and the recipient's token is given back.
            try await throttles[0].confirmation(account: "webchat/site", visitorId: "v1", recipient: "bob@example.com", address: "192.0.2.1")
            await #expect(throws: WidgetThrottle.Limited.self) {
                try await throttles[1].confirmation(account: "webchat/site", visitorId: "v1", recipient: "carol@example.com", address: "192.0.2.1")
            }
            try await throttles[1].confirmation(account: "webchat/site", visitorId: "v3", recipient: "carol@example.com", address: "192.0.2.3")
        }
    }

    /// A bucket is forgotten once it has refilled to its burst (a fresh one is the same), not before,
    /// and a refund moves that time earlier.
    @Test(arguments: StoreKind.available)
    func refilledBucketsAreForgotten(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.rateLimits
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let limit = RateLimit(perSecond: 8, burst: 4)  // one token per 125 ms
            for _ in 0..<3 { _ = try await ledger.reserve("slow", limit: limit, at: start) }  // full again in 375 ms
            _ = try await ledger.reserve("quick", limit: limit, at: start)  // in 125 ms
            _ = try await ledger.reserve("refunded", limit: limit, at: start)
            _ = try await ledger.reserve("refunded", limit: limit, at: start)
            try await ledger.refund("refunded", limit: limit)  // in 125 ms, not 250
            #expect(try await ledger.removeFull(at: start.addingTimeInterval(0.124)) == 0)
            #expect(try await ledger.removeFull(at: start.addingTimeInterval(0.125)) == 2)
            // "slow" was kept: one token left and one refilled, then a wait.
            for _ in 0..<2 { #expect(try await ledger.reserve("slow", limit: limit, at: start.addingTimeInterval(0.125)) == .zero) }
            #expect(try await ledger.reserve("slow", limit: limit, at: start.addingTimeInterval(0.125)) == .milliseconds(125))
            // "quick" was forgotten: it is full again, as it would have been.
            for _ in 0..<4 { #expect(try await ledger.reserve("quick", limit: limit, at: start.addingTimeInterval(0.125)) == .zero) }
            // Removed by name, a bucket is full at once.
            try await ledger.remove("slow")
            for _ in 0..<4 { #expect(try await ledger.reserve("slow", limit: limit, at: start.addingTimeInterval(0.125)) == .zero) }
        }
    }
}
