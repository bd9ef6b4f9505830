@testable import BridgeServer
import Foundation
import Logging
import Testing
import TestSupport
import UniversalInbox

/// How a process stands on a run-once duty (`RunOnceLeaser`), two "processes" on one database
/// with a clock the test moves: one holds the duty, the other waits; when the holder stops
/// renewing (it died), the other takes the duty once the lease has run out, and is told it *took*
/// it (so it settles what the dead holder left half done).
@Suite struct RunOnceLeaserTests {
    @Test func aDeadHoldersDutyPassesToTheOtherProcess() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-once-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let leases = SQLiteRunOnceLeases(database: try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path))
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let logger = Logger(label: "run-once-test")
        let a = RunOnceLeaser(leases: leases, clock: { clock.now }, logger: logger)
        let b = RunOnceLeaser(leases: leases, clock: { clock.now }, logger: logger)

        #expect(await a.standing("distribution") == .taken)
        #expect(await b.standing("distribution") == .standby)
        #expect(await a.standing("distribution") == .held)

        // A renews while it lives: past the first lease's end, B still waits.
        clock.advance(by: RunOnceLeaser.term * 0.8)
        await a.renew()
        clock.advance(by: RunOnceLeaser.term * 0.8)
        #expect(await b.standing("distribution") == .standby)
        #expect(await a.standing("distribution") == .held)

        // A stops renewing. Until its lease runs out B waits; then B takes the duty, and A, should
        // it wake up, no longer runs it.
        clock.advance(by: RunOnceLeaser.term * 0.9)
        #expect(await b.standing("distribution") == .standby)
        clock.advance(by: RunOnceLeaser.term * 0.2)
        #expect(await b.standing("distribution") == .taken)
        #expect(await a.standing("distribution") == .standby)
        #expect(await b.standing("distribution") == .held)
    }
}
