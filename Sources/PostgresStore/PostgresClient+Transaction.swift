import Logging
import PostgresNIO

extension PostgresClient {
    /// `body` in a transaction, committed when it returns and rolled back when it throws; its own
    /// error (`InboxError`, `LeaseLost`) is rethrown as it is, not wrapped in `PostgresTransactionError`,
    /// so callers see the same errors as from the SQLite stores, and so is a failed commit's (a
    /// serialization failure a caller may retry).
    ///
    /// `appendsToLog`: the transaction writes rows the event log's triggers record (tickets, their
    /// tags, notes and history, messages, contacts' names, identities). It then takes the log's
    /// counter lock (`PostgresConnection.lockEventLog`) before anything else, so every writer locks
    /// in one order, the counter first and rows after. Ingest holds the counter while it locks
    /// contacts and tickets; a writer that locked a ticket first and reached the counter later
    /// through a trigger would deadlock with it (40P01).
    func transaction<Result: Sendable>(
        logger: Logger, appendsToLog: Bool = false, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger) { connection in
                if appendsToLog { try await connection.lockEventLog(logger: logger) }
                return try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error
        }
    }
}

extension PostgresConnection {
    /// Takes the row lock on `event_seq`, the event log's counter, until the transaction ends: the
    /// lock `append_event` takes for each entry anyway (so `seq` order is commit order), taken early.
    func lockEventLog(logger: Logger) async throws {
        try await run(IngestStatements.LockEventLog(), logger: logger)
    }
}
