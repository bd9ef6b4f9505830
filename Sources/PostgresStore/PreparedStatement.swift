import Logging
import PostgresNIO
import Synchronization

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
    ///
    /// postgres-nio keeps a failed preparation for the connection's lifetime: every later run of
    /// the statement on it answers the same error without asking the server. So when a statement
    /// fails before it ever ran on this connection (its preparation may have failed: a lock
    /// timeout, a cancelled backend, a deadlock with a migration), this connection runs it as an
    /// unnamed statement from then on, parsed each time as before, instead of failing for good.
    @discardableResult
    func run<Statement: PreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [PostgresRow] {
        let prepared = PreparedOnConnections.shared
        var rows: [PostgresRow] = []
        if prepared.state(of: Statement.name, on: self) == .unusable {
            for try await row in try await query(PostgresQuery(unsafeSQL: Statement.sql, binds: try statement.makeBindings()), logger: logger) {
                rows.append(row)
            }
            return rows
        }
        do {
            for try await row in try await execute(statement, logger: logger) { rows.append(row) }
            prepared.set(.ran, of: Statement.name, on: self)
            return rows
        } catch {
            if prepared.state(of: Statement.name, on: self) == nil {
                prepared.set(.unusable, of: Statement.name, on: self)
                logger.warning(
                    "a statement failed before it first ran on its connection; that connection runs it unprepared from now on",
                    metadata: ["statement": "\(Statement.name)", "error": "\(PostgresStoreError.reason(error))"])
            }
            throw error
        }
    }
}

/// How each open connection's prepared statements fared (an entry goes when its connection closes).
final class PreparedOnConnections: Sendable {
    enum State {
        /// It ran: prepared, and runs prepared.
        case ran
        /// It failed before it first ran: its preparation may be the error postgres-nio keeps.
        case unusable
    }

    static let shared = PreparedOnConnections()
    private let states = Mutex<[ObjectIdentifier: [String: State]]>([:])

    func state(of name: String, on connection: PostgresConnection) -> State? {
        states.withLock { $0[ObjectIdentifier(connection)]?[name] }
    }

    func set(_ state: State, of name: String, on connection: PostgresConnection) {
        let key = ObjectIdentifier(connection)
        let first = states.withLock { states in
            defer { states[key, default: [:]][name] = state }
            return states[key] == nil
        }
        if first {
            connection.closeFuture.whenComplete { [self] _ in _ = states.withLock { $0.removeValue(forKey: key) } }
        }
    }
}
