import GRDB
import GRDBSQLite

/// One of ingest's statements run straight through SQLite's C API: bind, step, read, reset.
///
/// Why: a customer's message is about eight statements on the writer's serial queue, and GRDB's
/// part of running them (its arguments array of `DatabaseValue`s, the `Row` of a fetch, the region
/// and observation bookkeeping around each step) was about half of that queue's CPU, more than
/// SQLite's own (`IngestBenchmark store` under `perf record`). Ingest's statements are still
/// prepared and cached by GRDB (`cachedStatement`), run inside GRDB's transaction, and bound the
/// way GRDB binds them (text as a C string, as GRDB does), so anything GRDB reads back reads the
/// same. What is skipped is only GRDB's bookkeeping for transaction observers, which the bridge
/// never registers. Everything else keeps GRDB's API.
struct DirectStatement {
    /// GRDB's statement, held so that its handle lives as long as this (GRDB may empty its cache).
    private let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    /// The cached statement for `sql` with `values` bound to its parameters, in order.
    init(_ db: Database, _ sql: String, _ values: any DirectValue...) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        connection = db.sqliteConnection!
        precondition(values.count == sqlite3_bind_parameter_count(handle), "\(values.count) values for the parameters of \(sql)")
        // GRDB resets a statement when its fetch ends, but one a GRDB cursor still holds on a row is
        // reset here: SQLite refuses to bind a statement mid-run.
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let code = value.bind(to: handle, at: Int32(offset + 1))
            guard code == SQLITE_OK else {
                let error = error(code)
                reset()
                throw error
            }
        }
    }

    /// Runs the statement to its end (every row, for their side effects).
    func run() throws {
        defer { reset() }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return
            case SQLITE_ROW: continue
            case let code: throw error(code)
            }
        }
    }

    /// Runs the statement and reads its first row with `read`, or answers nil when it has none.
    /// The rest of its rows are still stepped through (an `UPDATE ... RETURNING` changes every row
    /// it matches only when run to its end).
    func first<T>(_ read: (Columns) -> T) throws -> T? {
        defer { reset() }
        var value: T?
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return value
            case SQLITE_ROW: if value == nil { value = read(Columns(handle: handle)) }
            case let code: throw error(code)
            }
        }
    }

    /// The current row's columns, by position.
    struct Columns {
        let handle: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

        func string(_ column: Int32) -> String? {
            guard sqlite3_column_type(handle, column) != SQLITE_NULL, let text = sqlite3_column_text(handle, column) else { return nil }
            return String(cString: text)
        }
    }

    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: statement.sql)
    }
}

/// A value `DirectStatement` binds as GRDB would: integers as integers, text as a C string.
protocol DirectValue {
    /// SQLite's result code.
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

extension Int64: DirectValue {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self) }
}

extension Bool: DirectValue {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self ? 1 : 0) }
}

extension String: DirectValue {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_text(statement, index, self, -1, transientText) }
}

extension Optional: DirectValue where Wrapped: DirectValue {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        if let self { self.bind(to: statement, at: index) } else { sqlite3_bind_null(statement, index) }
    }
}

/// SQLite copies bound text (a Swift string's C buffer lives only for the call).
private let transientText = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
