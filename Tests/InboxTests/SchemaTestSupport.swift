import GRDB

@testable import UniversalInbox

/// An in-memory database at the newest schema.
func migratedQueue() throws -> DatabaseQueue {
    let queue = try DatabaseQueue()
    try AppDatabase.migrator.migrate(queue)
    return queue
}

/// SQLite's plan for `sql` on the newest schema, a line per step (`EXPLAIN QUERY PLAN`'s details),
/// with every parameter bound to 1 (without statistics the plan does not depend on the values).
func queryPlan(_ sql: String) throws -> [String] {
    let arguments = StatementArguments(Array(repeating: 1, count: sql.filter { $0 == "?" }.count))
    return try migratedQueue().read { db in
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
    }
}
