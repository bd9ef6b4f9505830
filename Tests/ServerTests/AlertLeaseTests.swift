import ChannelKit
import Foundation
import GRDB
import Logging
import Notifier
import Synchronization
import TestSupport
import Testing
import UniversalInbox

/// An alert whose medium has a rate limit (e-mail through the relay, SMS) is held again once the
/// limit lets it go: a wait behind a campaign on the same relay can outlast the claim, and the
/// process that took the alert over would send it a second time.
@Suite struct AlertLeaseTests {
    /// A rate limit whose every token takes `wait` of the inbox's clock (a campaign ahead on the relay).
    struct SlowLedger: RateLimitLedger {
        let clock: ManualClock
        let wait: TimeInterval

        func reserve(_ name: String, limit: RateLimit, at now: Date) async throws -> Duration {
            clock.advance(by: wait)
            return .zero
        }

        func refund(_ name: String, limit: RateLimit) async throws {}
        func remove(_ name: String) async throws {}
        func removeFull(at now: Date) async throws -> Int { 0 }
    }

    /// A delivery that records what it was asked to deliver, behind a rate limit that takes 50 s.
    final class Recording: AlertDelivery {
        let bucket: TokenBucket?
        let delivered = Mutex<[PendingAlert]>([])

        init(_ clock: ManualClock) {
            bucket = TokenBucket(limit: RateLimit(perSecond: 1), name: "relay", ledger: SlowLedger(clock: clock, wait: 50))
        }

        func deliver(_ alert: PendingAlert) async throws -> Bool {
            delivered.withLock { $0.append(alert) }
            return true
        }
    }

    /// An inbox on a new SQLite file at `clock`, with one agent and one e-mail alert due for them.
    static func inbox(_ clock: ManualClock) async throws -> Inbox {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alert-lease-\(UUID().uuidString)")
        let database = try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path)
        let now = clock.now.ms
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (1, 'ann@example.com', 'Ann', 'agent', 5, ?, ?)",
                arguments: [now, now])
            try db.execute(
                sql: "INSERT INTO notifications (agent_id, medium, event, ticket_id, summary, due_at, created_at) VALUES (1, 'email', 'new_ticket', 1, 'Kenji: hello', ?, ?)",
                arguments: [now, now])
        }
        return Inbox(database: database, clock: { clock.now })
    }

    /// The clock, the inbox, the e-mail delivery and a notifier holding alerts 60 s.
    static func setUp() async throws -> (ManualClock, Inbox, Recording, Notifier) {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try await Self.inbox(clock)
        let delivery = Recording(clock)
        return (clock, inbox, delivery, Notifier(inbox: inbox, deliveries: [.email: delivery], retry: RetryPolicy(), logger: Logger(label: "test"), lease: 60))
    }

    @Test func anAlertIsHeldAgainAfterItsRateLimitLetItGo() async throws {
        let (clock, inbox, delivery, notifier) = try await Self.setUp()
        let claimed = try #require(try await inbox.claimAlerts(limit: 1, lease: notifier.lease).first)
        #expect(claimed.lease.until == clock.now.ms + 60_000)
        await notifier.send(claimed, now: clock.now)
        let delivered = delivery.delivered.withLock { $0 }
        #expect(delivered.count == 1)
        // Held for the whole lease again from when the rate limit let it go, not from the claim.
        #expect(delivered.first?.lease.until == clock.now.ms + 60_000)
        let status = try await inbox.database.pool.read { db in try String.fetchOne(db, sql: "SELECT status FROM notifications") }
        #expect(status == "sent")
    }

    @Test func anAlertTakenOverWhileItWaitedIsNotSentTwice() async throws {
        let (clock, inbox, delivery, notifier) = try await Self.setUp()
        let first = try #require(try await inbox.claimAlerts(limit: 1, lease: notifier.lease).first)
        // The first worker is slow to get going: its lease runs out and another worker takes the alert.
        clock.advance(by: 61)
        let second = try #require(try await inbox.claimAlerts(limit: 1, lease: notifier.lease).first)
        await notifier.send(first, now: clock.now)
        #expect(delivery.delivered.withLock { $0.isEmpty })
        await notifier.send(second, now: clock.now)
        #expect(delivery.delivered.withLock { $0.count } == 1)
    }
}
