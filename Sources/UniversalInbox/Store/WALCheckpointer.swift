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
/// readers). The WAL restarts from its start only when a write begins with every frame copied back,
/// which under steady ingest seldom happens between two groups; so a commit that leaves `bound`
/// frames or more checkpoints on the writer as SQLite would have, which copies only what the
/// checkpointer has not yet and lets the next write restart the WAL. (Waking at every commit past
/// `wakeAt` instead ran a checkpoint, with its two syncs, for nearly every group once the WAL had
/// not restarted: 12 times the syncs, and more CPU than the writer saved.)
/// That keeps the WAL file under about `bound` pages, as SQLite's own default keeps it under 1,000.
/// A reader that holds an old snapshot keeps any checkpoint from finishing, here as with SQLite's.
final class WALCheckpointer: Sendable {
    struct Limits: Sendable {
        /// Frames in the WAL at which a commit wakes the checkpointer (SQLite's automatic checkpoint's).
        var wakeAt: Int32 = 1_000
        /// Frames at which the writer checkpoints itself: the bound on the WAL.
        var bound: Int32 = 10_000
    }

    /// What the checkpointer has done, for tests and logs.
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
    private let state = Mutex<State>(State())
    private struct State {
        var scheduled = false
        /// Frames in the WAL after the latest commit.
        var latest: Int32 = 0
        /// Frames of the WAL the last background checkpoint copied back (0 once the WAL restarted).
        var copied: Int32 = 0
        var counts = Counts()

        /// Frames the checkpointer has not copied back. A WAL that holds fewer frames than were
        /// copied has restarted since, and none of its frames are copied.
        var uncopied: Int32 { latest >= copied ? latest - copied : latest }
    }
    /// The checkpointer's connection, opened at its first checkpoint; touched only on `queue`.
    private nonisolated(unsafe) var connection: DatabaseQueue?

    init(path: String, limits: Limits) {
        self.path = path
        self.limits = limits
    }

    var counts: Counts { state.withLock { $0.counts } }

    /// Makes `db` (the pool's writer) wake the checkpointer after its commits instead of running
    /// SQLite's automatic checkpoint. SQLite holds the hook's context as a bare pointer for as long
    /// as the connection lives, which can outlast this object, so the context is a small box that
    /// refers to it weakly and is never freed (one per writer connection opened).
    func install(on db: Database) {
        let box = Unmanaged.passRetained(HookBox(self)).toOpaque()
        sqlite3_wal_hook(db.sqliteConnection, { box, connection, _, frames in
            guard let box, let checkpointer = Unmanaged<HookBox>.fromOpaque(box).takeUnretainedValue().checkpointer else {
                return SQLITE_OK
            }
            checkpointer.committed(frames: frames, writer: connection)
            return SQLITE_OK
        }, box)
    }

    private final class HookBox: Sendable {
        weak let checkpointer: WALCheckpointer?
        init(_ checkpointer: WALCheckpointer) { self.checkpointer = checkpointer }
    }

    /// Called on the writer after each commit, with the frames now in the WAL.
    private func committed(frames: Int32, writer: OpaquePointer?) {
        if frames >= limits.bound {
            // As SQLite's automatic checkpoint does; a failure (SQLITE_BUSY while the checkpointer
            // is copying) is harmless: the next commit tries again.
            if sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK {
                state.withLock { $0.counts.onWriter += 1 }
            }
            return
        }
        let wake = state.withLock { state -> Bool in
            state.latest = frames
            if frames < state.copied { state.copied = 0 }  // the WAL restarted
            guard !state.scheduled, state.uncopied >= limits.wakeAt else { return false }
            state.scheduled = true
            return true
        }
        if wake { queue.async { self.checkpoint() } }
    }

    private func checkpoint() {
        let outcome = Result {
            if connection == nil {
                var configuration = Configuration()
                configuration.busyMode = .timeout(10)
                connection = try DatabaseQueue(path: path, configuration: configuration)
            }
            return try connection?.writeWithoutTransaction { try $0.checkpoint(.passive) }.checkpointedFrameCount ?? 0
        }
        // SQLITE_BUSY (another checkpoint running: the writer's at the bound) is the only failure
        // expected, and like any other it is tried again at the next wake.
        // Commits that came while it ran and left `wakeAt` frames or more uncopied found it
        // scheduled and did not wake it: it runs again for them. (Not after a failure: the next
        // commit wakes it.)
        let again = state.withLock { state in
            switch outcome {
            case .success(let copied):
                state.copied = Int32(clamping: copied)
                state.counts.background += 1
                state.scheduled = state.uncopied >= limits.wakeAt
            case .failure:
                state.scheduled = false
            }
            return state.scheduled
        }
        if again { queue.async { self.checkpoint() } }
    }
}
