import Foundation
import GRDB
import GRDBSQLite
import Testing
@testable import UniversalInbox

/// SQLite's process-wide settings (`CSQLiteTuning`): made when the binary loads, before any
/// connection, so they hold in every process that links the store, this test runner included.
@Suite struct SQLiteProcessSettingsTests {
    /// Memory statistics are off: SQLite counts none of the memory a database's writes take (with
    /// them on, each allocation takes a global mutex to count it, and the count is above zero).
    @Test func memoryStatisticsAreOff() throws {
        #expect(SQLiteProcessSettings.memoryStatisticsOff)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-settings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path)
        try database.pool.write { db in
            try db.execute(sql: "CREATE TABLE filler (b BLOB)")
            for _ in 0..<20 { try db.execute(sql: "INSERT INTO filler VALUES (randomblob(3000))") }
        }
        #expect(try database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM filler") } == 20)
        #expect(sqlite3_memory_used() == 0)
    }
}
