import Logging
import PostgresNIO

/// A statement PostgreSQL parses and plans once per connection and afterwards only binds and runs.
/// For the statements every ingest group runs: sent as unnamed statements, PostgreSQL parsed,
/// analysed and planned each of them every time, about 0.9 ms of server CPU a group, which made
/// PostgreSQL's CPU per event grow as groups got smaller (two processes share the webhooks, so each
/// writes groups half the size). A conforming type holds the statement's values; its rows come
/// back as `PostgresRow`s to decode as any query's.
protocol PreparedStatement: PostgresPreparedStatement where Row == PostgresRow {}

extension PreparedStatement {
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs `statement`, preparing it first on this connection when it has not been yet.
    @discardableResult
    func run<Statement: PreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}
