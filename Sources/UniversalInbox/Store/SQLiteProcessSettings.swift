import CSQLiteTuning
import GRDBSQLite

/// SQLite's process-wide settings. They can only be made before SQLite initializes, so
/// `CSQLiteTuning` makes them in C when the binary loads; this says whether they took.
package enum SQLiteProcessSettings {
    /// Whether SQLite's memory statistics are off in this process. With them on, every allocation
    /// and free SQLite makes takes one global mutex to count bytes nobody reads.
    package static var memoryStatisticsOff: Bool { memoryStatisticsAnswer == SQLITE_OK }

    /// What SQLite answered when asked to turn them off: `SQLITE_OK`, `SQLITE_MISUSE` (21) when it
    /// had been initialized before, -1 when the asking never ran.
    package static var memoryStatisticsAnswer: Int32 { bridge_sqlite_memstatus_off_result() }
}
