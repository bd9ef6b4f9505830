import GRDB
import PostgresNIO
import UniversalInbox

/// Plain SQL on the database a contract test runs on, for fixtures and for looking at rows behind
/// a store's back. Statements carry their values as literals (no binds), so one text runs on both.
enum PlainSQL: Sendable {
    case sqlite(AppDatabase)
    case postgres(PostgresClient)

    /// A column's value: integers and text are all the fixtures need.
    enum Value: Equatable, Sendable {
        case int(Int64), text(String), null

        var int: Int64? { if case .int(let value) = self { value } else { nil } }
        var text: String? { if case .text(let value) = self { value } else { nil } }
    }

    /// Every row of `sql`, each as its columns in order.
    func rows(_ sql: String) async throws -> [[Value]] {
        switch self {
        case .sqlite(let database):
            return try await database.pool.write { db in
                try Row.fetchAll(db, sql: sql).map { row in
                    row.databaseValues.map { value in
                        switch value.storage {
                        case .int64(let int): .int(int)
                        case .string(let text): .text(text)
                        case .null: .null
                        case .double, .blob: preconditionFailure("not a fixture value: \(value)")
                        }
                    }
                }
            }
        case .postgres(let client):
            var rows: [[Value]] = []
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestServer.logger) {
                rows.append(try row.map { cell in
                    guard cell.bytes != nil else { return .null }
                    switch cell.dataType {
                    case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
                    case .text, .varchar: return .text(try cell.decode(String.self))
                    default: preconditionFailure("not a fixture value: \(cell.dataType)")
                    }
                })
            }
            return rows
        }
    }

    /// Runs a statement whose rows, if any, do not matter (a fixture's INSERT or UPDATE).
    func execute(_ sql: String) async throws {
        _ = try await rows(sql)
    }

    /// The first column of the first row, e.g. of `INSERT ... RETURNING id`.
    func int64(_ sql: String) async throws -> Int64 {
        guard let value = try await rows(sql).first?.first?.int else { throw NoValue(sql: sql) }
        return value
    }

    struct NoValue: Error { let sql: String }
}
