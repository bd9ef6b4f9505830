import Foundation
import GRDB
import TestSupport
import Testing
import UniversalInbox

/// The lease-queue contract, on a real SQLite file: what every `LeaseQueueStore` must do. A
/// PostgreSQL store runs the same tests with its own `Fixture`.
@Suite struct LeaseQueueTests {
    /// A scratch queue table with the columns every queue has, and a group column.
    struct Fixture {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let database: AppDatabase
        let store: any LeaseQueueStore

        static let pending = LeaseQueue(table: "test_queue", finish: .status(pending: "pending"))
        static let inOrder = LeaseQueue(table: "test_queue", finish: .status(pending: "pending"), oneAtATimePer: "grp")
        static let deleting = LeaseQueue(table: "test_queue", finish: .delete)

        init() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lease-tests-\(UUID().uuidString)")
            database = try AppDatabase(path: dir.appendingPathComponent("bridge.sqlite").path)
            let clock = self.clock
            store = SQLiteLeaseQueueStore(database: database, clock: { clock.now })
            try database.pool.write { db in
                try db.execute(sql: """
                    CREATE TABLE test_queue (
                        id INTEGER PRIMARY KEY, grp INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'pending',
                        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, leased_until INTEGER, last_error TEXT)
                    """)
            }
        }

        /// Adds a row due `due` seconds from now; returns its id.
        @discardableResult
        func add(due: TimeInterval = 0, group: Int = 0) throws -> Int64 {
            try database.pool.write { db in
                try db.execute(
                    sql: "INSERT INTO test_queue (grp, next_attempt_at) VALUES (?, ?)",
                    arguments: [group, Int64((clock.now.timeIntervalSince1970 + due) * 1000)])
                return db.lastInsertedRowID
            }
        }

        func row(_ id: Int64) throws -> Row? {
            try database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM test_queue WHERE id = ?", arguments: [id]) }
        }
    }

    @Test func claimTakesDueRowsInOrderUpToTheLimit() async throws {
        let f = try Fixture()
        let a = try f.add(due: -5), b = try f.add(), c = try f.add(), later = try f.add(due: 10)
        #expect(try await f.store.claim(Fixture.pending, limit: 2, lease: 30).map(\.id) == [a, b])
        #expect(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).map(\.id) == [c])
        f.clock.advance(by: 10)
        #expect(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).map(\.id) == [later])
        #expect(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).isEmpty)
    }

    @Test func aClaimedRowIsClaimedAgainOnlyWhenItsLeaseRunsOut() async throws {
        let f = try Fixture()
        let id = try f.add()
        let first = try #require(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).first)
        #expect(first.id == id)
        f.clock.advance(by: 29.999)
        #expect(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).isEmpty)
        f.clock.advance(by: 0.001)
        let second = try #require(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).first)
        #expect(second.id == id)
        #expect(second.until > first.until)
    }

    @Test func aStaleHolderCannotReportOnARowClaimedSince() async throws {
        let f = try Fixture()
        let id = try f.add()
        let stale = try #require(try await f.store.claim(Fixture.pending, limit: 1, lease: 30).first)
        f.clock.advance(by: 30)
        let current = try #require(try await f.store.claim(Fixture.pending, limit: 1, lease: 30).first)
        await #expect(throws: LeaseLost(table: "test_queue", id: id)) {
            try await f.store.complete(Fixture.pending, stale, status: "done", error: nil)
        }
        await #expect(throws: LeaseLost(table: "test_queue", id: id)) {
            try await f.store.reschedule(Fixture.pending, stale, at: f.clock.now, error: "late")
        }
        let untouched = try #require(try f.row(id))
        #expect(untouched["status"] == "pending")
        #expect(untouched["attempts"] == 0)
        #expect(untouched["leased_until"] as Int64? == current.until)
        try await f.store.complete(Fixture.pending, current, status: "done", error: nil)
        #expect(try f.row(id)?["status"] == "done")
        // Once finished, the first holder is refused too (it may not revive a finished row).
        await #expect(throws: LeaseLost.self) { try await f.store.reschedule(Fixture.pending, stale, at: f.clock.now, error: nil) }
    }

    @Test func aHolderWhoseLeaseRanOutUnclaimedStillFinishes() async throws {
        let f = try Fixture()
        let id = try f.add()
        let lease = try #require(try await f.store.claim(Fixture.deleting, limit: 1, lease: 30).first)
        f.clock.advance(by: 300)
        try await f.store.complete(Fixture.deleting, lease, status: nil, error: nil)
        #expect(try f.row(id) == nil)
        #expect(try await f.store.claim(Fixture.deleting, limit: 10, lease: 30).isEmpty)
    }

    @Test func rescheduleCountsAttemptsAndWaitsUntilTheNextTime() async throws {
        let f = try Fixture()
        let id = try f.add()
        for attempt in 1...2 {
            let lease = try #require(try await f.store.claim(Fixture.pending, limit: 1, lease: 30).first)
            try await f.store.reschedule(Fixture.pending, lease, at: f.clock.now.addingTimeInterval(60), error: "boom \(attempt)")
            let row = try #require(try f.row(id))
            #expect(row["attempts"] == attempt)
            #expect(row["last_error"] == "boom \(attempt)")
            #expect(row["leased_until"] == nil as Int64?)
            f.clock.advance(by: 59)
            #expect(try await f.store.claim(Fixture.pending, limit: 1, lease: 30).isEmpty)
            f.clock.advance(by: 1)
        }
    }

    @Test func finishedRowsLeaveTheQueue() async throws {
        let f = try Fixture()
        let kept = try f.add()
        let lease = try #require(try await f.store.claim(Fixture.pending, limit: 1, lease: 30).first)
        try await f.store.complete(Fixture.pending, lease, status: "failed", error: "gone")
        let row = try #require(try f.row(kept))
        #expect(row["status"] == "failed")
        #expect(row["last_error"] == "gone")
        #expect(row["attempts"] == 1)
        #expect(row["leased_until"] == nil as Int64?)
        f.clock.advance(by: 3600)
        #expect(try await f.store.claim(Fixture.pending, limit: 10, lease: 30).isEmpty)
    }

    /// The outbox's rule: per group, the oldest live row only, so a group's rows go one at a time
    /// and in order, even while the oldest waits for its retry.
    @Test func oneAtATimePerGroupInOrder() async throws {
        let f = try Fixture()
        let a1 = try f.add(group: 1), a2 = try f.add(group: 1), b1 = try f.add(group: 2)
        let claimed = try await f.store.claim(Fixture.inOrder, limit: 10, lease: 30)
        #expect(claimed.map(\.id) == [a1, b1])
        #expect(try await f.store.claim(Fixture.inOrder, limit: 10, lease: 30).isEmpty)
        try await f.store.complete(Fixture.inOrder, claimed[1], status: "done", error: nil)
        try await f.store.reschedule(Fixture.inOrder, claimed[0], at: f.clock.now.addingTimeInterval(60), error: "retry")
        #expect(try await f.store.claim(Fixture.inOrder, limit: 10, lease: 30).isEmpty)
        f.clock.advance(by: 60)
        let retried = try await f.store.claim(Fixture.inOrder, limit: 10, lease: 30)
        #expect(retried.map(\.id) == [a1])
        try await f.store.complete(Fixture.inOrder, retried[0], status: "done", error: nil)
        #expect(try await f.store.claim(Fixture.inOrder, limit: 10, lease: 30).map(\.id) == [a2])
    }

    @Test func concurrentClaimersNeverShareARow() async throws {
        let f = try Fixture()
        for _ in 0..<200 { try f.add() }
        let store = f.store
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var mine: [Int64] = []
                    // Bounded, so a queue that hands rows out twice fails instead of looping.
                    for _ in 0..<40 {
                        let batch = try await store.claim(Fixture.pending, limit: 7, lease: 30)
                        if batch.isEmpty { break }
                        mine += batch.map(\.id)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(claimed.count == 200)
        #expect(Set(claimed).count == 200)
    }
}
