import CSQLiteTuning
import GRDBSQLite

/// SQLite's process-wide settings. They can only be made before SQLite initializes, so
/// `CSQLiteTuning` makes them in C when the binary loads; this says whether they took.
package enum SQLiteProcessSettings {
    /// Whether SQLite's memory statistics are off in this process. With them on, every allocation
    /// and free SQLite makes takes one global mutex to count bytes nobody reads.
    package static var memoryStatisticsOff: Bool { bridge_sqlite_memstatus_off_result() == SQLITE_OK }
}
