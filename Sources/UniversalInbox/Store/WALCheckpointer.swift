import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the WAL back into the database file on a connection and thread of its own, so that the
/// writer does not.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 frames,
/// on the writer's connection, with its two `fdatasync`s. The writer is ingest's serial stage, and
/// every webhook waiting for the next group waits for that checkpoint too: it was a tenth of the
/// writer's CPU at 200,000 events a pass (`IngestBenchmark store --events 200000`), more as the
/// store grows, and its syncs held the writer for about 8% of a wrk run.
///
/// How: a commit that leaves `wakeAt` frames or more in the WAL beyond what was last copied back
/// wakes the checkpointer, which runs a PASSIVE checkpoint (it never waits for the writer or
/// readers). It runs again at once only when it copied something and `wakeAt` frames are still
/// left; one that could copy nothing (a reader holds an old snapshot, as `bridge backup` does)
/// waits for `wakeAt` more frames instead of trying again and again. (Waking at every commit past
/// `wakeAt` ran a checkpoint, with its two syncs, for nearly every group: 12 times the syncs.)
///
/// The bound: the WAL restarts from its start only when a write begins with every frame copied
/// back, which under steady ingest seldom happens between two groups. So a commit that leaves
/// `bound` frames or more checkpoints on the writer, as SQLite would have; that copies only what
/// the checkpointer has not yet, and lets the next write restart the WAL. The WAL file so stays
/// under about `bound` pages, as SQLite's default keeps it under 1,000. A reader that holds an old
/// snapshot keeps any checkpoint from finishing, here as with SQLite's.
final class WALCheckpointer: Sendable {
    struct Limits: Sendable {
        /// Frames in the WAL at which a commit wakes the checkpointer (SQLite's automatic checkpoint's).
        var wakeAt: Int32 = 1_000
        /// Frames at which the writer checkpoints itself: the bound on the WAL.
        var bound: Int32 = 10_000
    }

    /// What the checkpointer has done (tests).
    struct Counts: Sendable, Equatable {
        /// Checkpoints on the checkpointer's own connection.
        var background = 0
        /// Checkpoints the writer ran itself at the bound.
        var onWriter = 0
    }

    let limits: Limits
    private let path: String
    /// Where background checkpoints run (tests suspend it to stand for a checkpointer that is behind).
    let queue = DispatchQueue(label: "bridge.wal-checkpoint")
    private let state: Mutex<State>
    private struct State {
        var scheduled = false
        /// Frames in the WAL after the latest commit.
        var latest: Int32 = 0
        /// Frames of the WAL the last background checkpoint copied back.
        var copied: Int32 = 0
        /// Frames in the WAL at which a commit wakes the checkpointer.
        var nextWake: Int32
        var counts = Counts()

        /// A commit left `frames` in the WAL. Fewer than the last commit left means the WAL
        /// restarted (only a write that begins with every frame copied back does that): nothing
        /// in it is copied.
        mutating func committed(_ frames: Int32, limits: Limits) {
            if frames < latest {
                copied = 0
                nextWake = limits.wakeAt
            }
            latest = frames
        }
    }
    /// The checkpointer's connection, opened at its first checkpoint; touched only on `queue`.
    private nonisolated(unsafe) var connection: DatabaseQueue?

    init(path: String, limits: Limits) {
        self.path = path
        self.limits = limits
        state = Mutex(State(nextWake: limits.wakeAt))
    }

    var counts: Counts { state.withLock { $0.counts } }

    /// Makes `db` (the pool's writer) wake the checkpointer after its commits instead of running
    /// SQLite's automatic checkpoint. Called from the pool's `prepareDatabase`, whose closure holds
    /// this object: `db` keeps its configuration, and so this object, for as long as the
    /// connection is open, which is what makes SQLite's bare context pointer safe.
    func install(on db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, { context, connection, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(frames: frames, writer: connection)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Called on the writer after each commit, with the frames now in the WAL.
    private func committed(frames: Int32, writer: OpaquePointer?) {
        let wake = state.withLock { state -> Bool in
            state.committed(frames, limits: limits)
            guard frames < limits.bound, !state.scheduled, frames >= state.nextWake else { return false }
            state.scheduled = true
            return true
        }
        if frames >= limits.bound {
            // As SQLite's automatic checkpoint does; a failure (SQLITE_BUSY while the checkpointer
            // is copying) is harmless: the next commit tries again.
            if sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK {
                state.withLock { $0.counts.onWriter += 1 }
            }
        } else if wake {
            queue.async { self.checkpoint() }
        }
    }

    private func checkpoint() {
        let outcome = Result {
            if connection == nil {
                var configuration = Configuration()
                configuration.busyMode = .timeout(10)
                connection = try DatabaseQueue(path: path, configuration: configuration)
            }
            return try connection?.writeWithoutTransaction { try $0.checkpoint(.passive) } ?? (walFrameCount: 0, checkpointedFrameCount: 0)
        }
        let again = state.withLock { state in
            state.scheduled = false
            // SQLITE_BUSY (the writer's checkpoint at the bound running) is the only failure
            // expected; the next commit past `nextWake` tries again.
            guard case .success(let (inWAL, copied)) = outcome else { return false }
            state.counts.background += 1
            let (inWAL32, copied32) = (Int32(clamping: inWAL), Int32(clamping: copied))
            let progressed = copied32 > state.copied
            state.copied = copied32
            // Commits that came while it ran found it scheduled and did not wake it: when it
            // copied something, it runs again at once if they left `wakeAt` frames. When it copied
            // nothing, it waits for `wakeAt` frames more than the WAL holds now.
            state.nextWake = (progressed ? copied32 : max(inWAL32, state.latest)) + limits.wakeAt
            state.scheduled = progressed && state.latest >= state.nextWake
            return state.scheduled
        }
        if again { queue.async { self.checkpoint() } }
    }

    /// Waits until no background checkpoint is running or due, for at most 30 s; answers whether
    /// none is (tests).
    @discardableResult
    func drain() -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while state.withLock({ $0.scheduled }) {
            guard ContinuousClock.now < deadline else { return false }
            queue.sync {}
        }
        return true
    }
}
