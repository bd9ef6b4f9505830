@testable import BridgeServer
import ChannelKit
import Dispatch
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Synchronization
import TestSupport
import Testing

/// Password guessing is limited per account and per client address (429 with `Retry-After`), and
/// bcrypt runs on its own threads, so logins never hold the pool every other request runs on.
@Suite struct LoginLimitTests {
    func login(_ t: TestBridge, _ email: String, _ password: String) async throws -> TestBridge.Reply {
        try await t.postJSON("/api/v1/auth/login", #"{"email":"\#(email)","password":"\#(password)"}"#, token: nil)
    }

    /// Each limit is a token bucket: `perAccount` attempts at once, then one every `window / perAccount`.
    @Test func theBucketRefillsOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(limits: .init(perAccount: 3, perAddress: 100, window: 60), now: { clock.now })
        for _ in 0..<3 { try await throttle.begin(account: "ann@example.com", address: "192.0.2.1") }
        // The same account whatever the case; a token is back 20 s from now.
        await #expect(throws: LoginThrottle.Limited.self) { try await throttle.begin(account: "ANN@example.com ", address: "192.0.2.9") }
        do {
            try await throttle.begin(account: "ann@example.com", address: "192.0.2.1")
            Issue.record("a fourth attempt at once went through")
        } catch let error as LoginThrottle.Limited {
            #expect(error.retryAfter == 20)
            #expect(error.scope == "account")
        }
        clock.advance(by: 19)
        await #expect(throws: LoginThrottle.Limited.self) { try await throttle.begin(account: "ann@example.com", address: nil) }
        clock.advance(by: 1)
        try await throttle.begin(account: "ann@example.com", address: nil)  // one token back
        await #expect(throws: LoginThrottle.Limited.self) { try await throttle.begin(account: "ann@example.com", address: nil) }
    }

    @Test func aSuccessClearsTheAccountAndAnUntriedAttemptDoesNotCount() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(limits: .init(perAccount: 3, perAddress: 5, window: 60), now: { clock.now })
        for _ in 0..<3 { try await throttle.begin(account: "ann@example.com", address: "192.0.2.1") }
        await throttle.succeeded(account: "ann@example.com", address: "192.0.2.1")
        // The account starts afresh: three more attempts, then no more.
        for _ in 0..<3 { try await throttle.begin(account: "ann@example.com", address: "192.0.2.2") }
        await #expect(throws: LoginThrottle.Limited.self) { try await throttle.begin(account: "ann@example.com", address: "192.0.2.2") }
        // An attempt that was not tried (busy password threads) is taken back.
        await throttle.abandoned(account: "ann@example.com", address: "192.0.2.2")
        try await throttle.begin(account: "ann@example.com", address: "192.0.2.3")
        // The first address has 2 failures (its success does not count): 3 more across accounts, then no more.
        for name in ["bob", "cleo", "dora"] { try await throttle.begin(account: "\(name)@example.com", address: "192.0.2.1") }
        do {
            try await throttle.begin(account: "eve@example.com", address: "192.0.2.1")
            Issue.record("a sixth failure from one address went through")
        } catch let error as LoginThrottle.Limited {
            #expect(error.scope == "address")
        }
        // The refused attempt took nothing from eve's account.
        for _ in 0..<3 { try await throttle.begin(account: "eve@example.com", address: "192.0.2.4") }
    }

    /// When the ledger cannot be reached no attempt goes unchecked: 503 `limits_unavailable`.
    @Test func anUnreachableLedgerRefusesTheAttempt() async throws {
        struct Unreachable: RateLimitLedger {
            struct Down: Error {}
            func reserve(_ name: String, limit: RateLimit, at now: Date) async throws -> Duration { throw Down() }
            func refund(_ name: String, limit: RateLimit) async throws { throw Down() }
            func remove(_ name: String) async throws { throw Down() }
            func removeFull(at now: Date) async throws -> Int { throw Down() }
        }
        let throttle = LoginThrottle(limits: .init(), ledger: Unreachable())
        do {
            try await throttle.begin(account: "ann@example.com", address: "192.0.2.1")
            Issue.record("an attempt went through unchecked")
        } catch let error as APIError {
            #expect(error.status == .serviceUnavailable)
            #expect(error.code == "limits_unavailable")
        }
    }

    @Test func anAccountIsLimitedForAWrongPasswordAndAnUnknownAccountAlike() async throws {
        try await TestBridge.with(configure: { $0.loginLimits = .init(perAccount: 3, perAddress: 1000, window: 900) }) { t in
            _ = try await t.addAgent("Ann", password: "the right password")
            for email in ["ann@example.com", "nobody@example.com"] {
                for attempt in 1...3 {
                    let wrong = try await login(t, email, "a wrong password")
                    #expect(wrong.status == 401, "\(email) attempt \(attempt)")
                }
                let limited = try await login(t, email, "a wrong password")
                #expect(limited.status == 429, "\(email)")
                #expect(limited.errorCode == "too_many_attempts")
                let retryAfter = try #require(limited.headers.first(name: "Retry-After").flatMap(Int.init))
                #expect((1...900).contains(retryAfter))
            }
            // Limited, even the right password waits (so guessing on cannot find it).
            #expect(try await login(t, "ann@example.com", "the right password").status == 429)
        }
    }

    @Test func aSuccessResetsTheAccountsCount() async throws {
        try await TestBridge.with(configure: { $0.loginLimits = .init(perAccount: 3, perAddress: 1000, window: 900) }) { t in
            _ = try await t.addAgent("Ann", password: "the right password")
            #expect(try await login(t, "ann@example.com", "a wrong password").status == 401)
            #expect(try await login(t, "ann@example.com", "a wrong password").status == 401)
            #expect(try await login(t, "ann@example.com", "the right password").status == 201)
            for _ in 1...3 { #expect(try await login(t, "ann@example.com", "a wrong password").status == 401) }
            #expect(try await login(t, "ann@example.com", "a wrong password").status == 429)
        }
    }

    /// The buckets a login leaves (its account's and its address's, named by digests) are forgotten
    /// once refilled (`LedgerJanitor`), so addresses and e-mail addresses strangers try do not pile
    /// up in the ledger: on PostgreSQL a table every process shares.
    @Test func refilledBucketsAreForgotten() async throws {
        // The account's bucket refills in 5 s; the janitor looks every 50 ms (and forgets what was full 50 ms before).
        try await TestBridge.with(janitorInterval: .milliseconds(50), configure: { $0.loginLimits = .init(perAccount: 1, perAddress: 1000, window: 5) }) { t in
            #expect(try await login(t, "nobody@example.com", "a wrong password").status == 401)
            let ledger = t.bridge.parts.rateLimits
            let buckets: @Sendable () async throws -> Int = {
                if let postgres = t.postgres {
                    return try await PostgresConnector.withConnection(postgres.settings, logger: Logger(label: "test")) { db in
                        var count = 0
                        for try await (bucket, _) in try await db.query("SELECT bucket, tokens FROM rate_limit_buckets", logger: Logger(label: "test")).decode((String, Double).self) {
                            #expect(bucket.hasPrefix("login/"), "\(bucket)")
                            #expect(!bucket.contains("nobody"), "\(bucket)")
                            count += 1
                        }
                        return count
                    }
                }
                let local = try #require(ledger as? InProcessRateLimitLedger)
                return await local.bucketCount
            }
            #expect(try await buckets() >= 1, "the account's bucket, not yet refilled")
            try await t.eventually("the refilled login buckets to be forgotten") { try await buckets() == 0 }
        }
    }

    @Test func oneAddressIsLimitedAcrossAccounts() async throws {
        try await TestBridge.with(configure: { $0.loginLimits = .init(perAccount: 100, perAddress: 3, window: 900) }) { t in
            for name in ["ann", "bob", "cleo"] { #expect(try await login(t, "\(name)@example.com", "a wrong password").status == 401) }
            let limited = try await login(t, "dora@example.com", "a wrong password")
            #expect(limited.status == 429)
            #expect(limited.errorMessage?.contains("address") == true)
            #expect(limited.headers.first(name: "Retry-After") != nil)
        }
    }

    /// The thread bcrypt runs on is one of the hasher's own (NIO names them `TP-#n`), not one of
    /// the cooperative pool's.
    @Test func hashesRunOnThePasswordThreads() async throws {
        let hasher = PasswordHasher(threads: 1, maxWaiting: 0)
        let name = try await hasher.run { Self.threadName() }
        #expect(name.hasPrefix("TP-#"))
        #expect(Self.threadName() != name)
        let hash = try await hasher.hash("a good password", cost: 4)
        #expect(try await hasher.verify("a good password", hash: hash))
        await hasher.shutdown()
    }

    static func threadName() -> String { Thread.current.name ?? "" }

    /// Logins wait for the password threads, not for the shared pool: with the one password thread
    /// held, logins queue (up to `bcryptQueue`), one more is refused at once with 503, and `/health`
    /// is answered all the while; released, the queued logins complete.
    @Test func bcryptRunsOnItsOwnThreadsWithABoundedQueue() async throws {
        try await TestBridge.with(configure: {
            $0.bcryptThreads = 1
            $0.bcryptQueue = 2
        }) { t in
            _ = try await t.addAgent("Ann", password: "the right password")
            let hasher = t.bridge.parts.passwordHasher
            let gate = DispatchSemaphore(value: 0)
            let blocker = Task { try await hasher.run { gate.wait() } }
            try await t.eventually("the password thread to be held") { hasher.load == 1 }

            async let right = login(t, "ann@example.com", "the right password")
            async let wrong = login(t, "ann@example.com", "a wrong password")
            try await t.eventually("both logins to wait for the password thread") { hasher.load == 3 }
            let refused = try await login(t, "ann@example.com", "the right password")
            #expect(refused.status == 503)
            #expect(refused.errorCode == "busy")
            #expect(refused.headers.first(name: "Retry-After") == "1")
            #expect(try await t.get("/health", token: nil).status == 200)
            #expect(hasher.load == 3)  // the queued logins are still waiting

            gate.signal()
            try await blocker.value
            #expect(try await right.status == 201)
            #expect(try await wrong.status == 401)
            #expect(hasher.load == 0)
        }
    }
}
