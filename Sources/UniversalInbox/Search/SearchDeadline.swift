import Foundation
import GRDB
import GRDBSQLite

/// One search's deadline, alive for one read on one connection. SQLite asks it every `interval`
/// virtual-machine instructions through a progress handler, so a long statement is stopped from
/// inside; the search's own loop asks it once per candidate message.
final class SearchDeadline {
    /// VM instructions between two looks at the clock: a clock read per thousand steps costs nothing measurable.
    static let interval: Int32 = 1000

    private let limits: SearchLimits
    private let end: ContinuousClock.Instant
    private(set) var passed = false

    private init(_ limits: SearchLimits) {
        self.limits = limits
        end = limits.now() + limits.timeout
    }

    /// True once the deadline has passed, and from then on.
    func hasPassed() -> Bool {
        if !passed, limits.now() >= end { passed = true }
        return passed
    }

    /// Throws `SearchTooCostly` once the deadline has passed.
    func check() throws {
        if hasPassed() { throw SearchTooCostly(timeout: limits.timeout) }
    }

    /// Runs `body` under a deadline. The progress handler is on the connection only for the run:
    /// the connection goes back to the pool for other reads afterwards. A statement the handler
    /// interrupted surfaces as `SearchTooCostly`; one interrupted because the task was cancelled
    /// stays GRDB's `CancellationError`.
    static func run<T>(_ db: Database, _ limits: SearchLimits, _ body: (SearchDeadline) throws -> T) throws -> T {
        let deadline = SearchDeadline(limits)
        let connection = db.sqliteConnection
        sqlite3_progress_handler(
            connection, interval,
            { context in
                guard let context else { return 0 }
                return Unmanaged<SearchDeadline>.fromOpaque(context).takeUnretainedValue().hasPassed() ? 1 : 0
            }, Unmanaged.passUnretained(deadline).toOpaque())
        defer { sqlite3_progress_handler(connection, 0, nil, nil) }
        do {
            return try withExtendedLifetime(deadline) { try body(deadline) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT && deadline.passed {
            throw SearchTooCostly(timeout: limits.timeout)
        }
    }
}
