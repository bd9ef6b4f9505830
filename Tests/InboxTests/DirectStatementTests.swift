import Foundation
import GRDB
import Testing
@testable import UniversalInbox

/// `DirectStatement` runs ingest's cached statements through SQLite's C API: what it writes reads
/// back through GRDB the same, its errors are GRDB's, and it shares GRDB's statement cache safely.
@Suite struct DirectStatementTests {
    static func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO t (a, b, c) VALUES (1, 'one', 0), (2, 'two', 0), (3, 'three', 0)")
        }
        return queue
    }

    @Test func writesWhatGRDBReadsBack() throws {
        try Self.database().write { db in
            let texts: [String?] = ["注文はどこですか？ 👍🏽", "", nil, "quote \" and \\ and \n"]
            for (offset, text) in texts.enumerated() {
                try DirectStatement(db, "INSERT INTO t (a, b, c) VALUES (?, ?, ?)", Int64(10 + offset), text, offset % 2 == 0).run()
                #expect(db.changesCount == 1)
                #expect(db.lastInsertedRowID == Int64(10 + offset))
            }
            let rows = try Row.fetchAll(db, sql: "SELECT b, c FROM t WHERE a >= 10 ORDER BY a")
            #expect(rows.map { $0["b"] as String? } == texts)
            #expect(rows.map { $0["c"] as Bool } == [true, false, true, false])
            let read = try DirectStatement(db, "SELECT a, b FROM t WHERE a = ?", Int64(12)).first { ($0.int64(0), $0.string(1)) }
            #expect(read?.0 == 12 && read?.1 == nil)
            #expect(try DirectStatement(db, "SELECT a FROM t WHERE a = ?", Int64(99)).first { $0.int64(0) } == nil)
        }
    }

    /// The same cached statement run by GRDB and directly in turn answers each for its own
    /// arguments, even when a GRDB cursor left it on a row (SQLite refuses to bind a statement
    /// mid-run: it is reset first).
    @Test func aStatementGRDBRunsOrLeftOnARowRunsDirectly() throws {
        try Self.database().write { db in
            let sql = "SELECT a, b FROM t WHERE a >= ? ORDER BY a"
            #expect(try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [1])?["b"] == "one")
            #expect(try DirectStatement(db, sql, Int64(2)).first { $0.string(1) } == "two")
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: [1])
            #expect(try cursor.next()?["b"] == "one")
            let read = try withExtendedLifetime(cursor) { try DirectStatement(db, sql, Int64(3)).first { $0.string(1) } }
            #expect(read == "three")
            #expect(try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [2])?["b"] == "two")
        }
    }

    /// `first` on an `UPDATE ... RETURNING` answers the first row and still changes every row.
    @Test func firstRunsAStatementToItsEnd() throws {
        try Self.database().write { db in
            let first = try DirectStatement(db, "UPDATE t SET c = c + 1 WHERE a >= ? RETURNING a", Int64(1)).first { $0.int64(0) }
            #expect(first != nil)
            #expect(try Int.fetchAll(db, sql: "SELECT c FROM t ORDER BY a") == [1, 1, 1])
        }
    }

    /// A failing statement throws SQLite's error as GRDB would, changes nothing, and runs again.
    @Test func failuresAreGRDBsErrorsAndTheStatementRunsAgain() throws {
        try Self.database().write { db in
            let sql = "INSERT INTO t (a, b, c) VALUES (?, ?, ?)"
            #expect {
                try DirectStatement(db, sql, Int64(1), "again", Int64(0)).run()
            } throws: { error in
                (error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT && (error as? DatabaseError)?.sql == sql
            }
            #expect(throws: DatabaseError.self) { try DirectStatement(db, sql, Int64(4), "four", Int64?.none).run() }
            try DirectStatement(db, sql, Int64(4), "four", Int64(0)).run()
            #expect(try String.fetchAll(db, sql: "SELECT b FROM t ORDER BY a") == ["one", "two", "three", "four"])
        }
    }
}
