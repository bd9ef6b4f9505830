import Logging
import PostgresNIO

extension PostgresClient {
    /// `body` in a transaction, committed when it returns and rolled back when it throws; its own
    /// error (`InboxError`, `LeaseLost`) is rethrown as it is, not wrapped in `PostgresTransactionError`,
    /// so callers see the same errors as from the SQLite stores, and so is a failed commit's (a
    /// serialization failure a caller may retry).
    func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error
        }
    }
}
