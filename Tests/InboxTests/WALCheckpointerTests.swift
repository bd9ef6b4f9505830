import Foundation
import GRDB
import Testing
@testable import UniversalInbox

/// `WALCheckpointer`: the WAL is copied back into the database file on the checkpointer's own
/// connection, not in the writer's commits; and when the checkpointer is behind, the writer
/// checkpoints at the bound, so the WAL stays under it.
@Suite struct WALCheckpointerTests {
    static let limits = WALCheckpointer.Limits(wakeAt: 20, bound: 200)
    /// A WAL frame: its header and a page (SQLite's default page size).
    static let frameBytes = 24 + 4_096

    struct Fixture {
        let database: AppDatabase
        let path: String

        init(limits: WALCheckpointer.Limits = WALCheckpointerTests.limits) throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-tests-\(UUID().uuidString)")
            path = directory.appendingPathComponent("bridge.sqlite").path
            database = try AppDatabase(path: path, checkpoints: limits)
            try database.pool.write { try $0.execute(sql: "CREATE TABLE filler (b BLOB)") }
            // Start from an empty WAL, whatever the migrations left in it, once the background
            // checkpoints they woke have finished (two checkpoints cannot run at once).
            database.checkpointer.drain()
            try database.pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        }

        /// Commits `commits` transactions of about eight new pages each.
        func write(commits: Int) throws {
            for _ in 0..<commits {
                try database.pool.write { db in
                    for _ in 0..<10 { try db.execute(sql: "INSERT INTO filler VALUES (randomblob(3000))") }
                }
            }
        }

        func size(_ suffix: String = "") -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int) ?? 0
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        }
    }

    @Test func theWALIsCopiedBackOffTheWriter() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let before = fixture.database.checkpointer.counts
        let fileBefore = fixture.size()
        // About 80 pages: past `wakeAt`, well short of `bound`. What is left uncopied is less than
        // `wakeAt` frames.
        try fixture.write(commits: 10)
        try await waitUntil("the filler copied into the database file by the checkpointer") {
            fixture.size() >= fileBefore + 50 * 4_096 && fixture.database.checkpointer.counts.background > before.background
        }
        #expect(fixture.database.checkpointer.counts.onWriter == before.onWriter)
    }

    @Test func theWriterCheckpointsAtTheBoundWhenTheCheckpointerIsBehind() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let checkpointer = fixture.database.checkpointer
        let before = checkpointer.counts
        checkpointer.queue.suspend()
        // About 480 pages, more than twice the bound, with no background checkpoint.
        try fixture.write(commits: 60)
        let during = checkpointer.counts
        checkpointer.queue.resume()
        #expect(during.background == before.background)
        #expect(during.onWriter > before.onWriter)
        // The WAL never held more than the bound and the commit that crossed it.
        #expect(fixture.size("-wal") <= 32 + (Int(Self.limits.bound) + 20) * Self.frameBytes)
    }

    /// A reader holding an old snapshot (as `bridge backup` does) keeps a checkpoint from copying
    /// what came after it: the checkpointer then waits for more frames instead of trying again at
    /// once, over and over, for as long as the reader holds it.
    @Test func aCheckpointThatCopiesNothingWaitsForMoreFrames() async throws {
        let fixture = try Fixture(limits: WALCheckpointer.Limits(wakeAt: 20, bound: 1_000_000))
        defer { fixture.remove() }
        let checkpointer = fixture.database.checkpointer
        let (reading, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let reader = Thread {
            try? fixture.database.pool.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM filler")
                reading.signal()
                release.wait()
            }
        }
        reader.start()
        reading.wait()
        let before = checkpointer.counts.background
        // About 240 pages behind the reader's snapshot (the WAL cannot restart): a wake at most
        // every 20 new frames.
        for _ in 0..<30 {
            try fixture.write(commits: 1)
            try #require(checkpointer.drain())
        }
        let runs = checkpointer.counts.background - before
        let frames = (fixture.size("-wal") - 32) / Self.frameBytes
        release.signal()
        #expect(runs >= 1)
        #expect(runs <= frames / 20 + 1)
    }

    /// Waits until `condition` holds; the deadline only keeps a broken checkpointer from hanging the run.
    private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "not so within 30 s: \(what)")
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
