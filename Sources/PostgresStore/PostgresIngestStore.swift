import ChannelKit
import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `IngestStore` on PostgreSQL: a group of webhooks in one transaction, as on SQLite. Several
/// processes may file the same events at once, so every find-or-create holds against a concurrent
/// transaction (`PostgresIngestWriter`): the group's dedupe rows go first, `INSERT ... ON CONFLICT
/// DO NOTHING` on `processed_events`' key in a fixed order (a second process waits for the first's
/// commit and then counts a duplicate), then `event_seq`'s lock, under which contacts, identities
/// and tickets are found or created. Should a group still meet a deadlock (with another kind of
/// writer), PostgreSQL fails one transaction and that group goes again whole, finding what the
/// other committed.
public struct PostgresIngestStore: IngestStore {
    let client: PostgresClient
    let logger: Logger
    /// How many times a group is written before a deadlock or serialization failure is its answer.
    static let attempts = 8

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The group in one transaction; when that fails for another reason than a deadlock, again with
    /// each webhook in its own savepoint, so one that cannot be stored fails alone and the others commit.
    public func file(_ group: [WebhookEvents], now: Date) async -> [Result<IngestResult, any Error>] {
        let now = now.ms
        do {
            return try await retrying {
                try await client.transaction(logger: logger) { connection in
                    try await Self.write(group, now: now, on: connection, logger: logger).map { .success($0) }
                }
            }
        } catch {
            logger.debug("ingest group failed; filing its webhooks one savepoint each", metadata: ["webhooks": "\(group.count)"])
        }
        do {
            return try await retrying {
                try await client.transaction(logger: logger) { connection in
                    var results: [Result<IngestResult, any Error>] = []
                    for webhook in group {
                        try await connection.query("SAVEPOINT webhook", logger: logger)
                        do {
                            let result = try await Self.write([webhook], now: now, on: connection, logger: logger)[0]
                            try await connection.query("RELEASE SAVEPOINT webhook", logger: logger)
                            results.append(.success(result))
                        } catch let error where !Self.isConflict(error) {
                            try await connection.query("ROLLBACK TO SAVEPOINT webhook", logger: logger)
                            results.append(.failure(error))
                        }
                    }
                    return results
                }
            }
        } catch {
            return Array(repeating: .failure(error), count: group.count)
        }
    }

    /// Writes `group` in the caller's transaction: its dedupe rows (`claim`), its known customers'
    /// first statements (`PostgresIngestBatch.prepare`), then each webhook in order.
    static func write(_ group: [WebhookEvents], now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [IngestResult] {
        var claimed = try await PostgresIngestWriter.claim(group, now: now, on: connection, logger: logger)
        guard let first = group.first else { return [] }
        let writer = PostgresIngestWriter(connection: connection, logger: logger, now: now, account: first.account)
        try await writer.batch.prepare(group, claimed: claimed, on: connection, logger: logger)
        for webhook in group { try await writer.write(webhook, claimed: &claimed) }
        return try await writer.finish()
    }

    /// `body` again while PostgreSQL fails it for a deadlock or a serialization failure.
    private func retrying(_ body: () async throws -> [Result<IngestResult, any Error>]) async throws -> [Result<IngestResult, any Error>] {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error where Self.isConflict(error) && attempt < Self.attempts {
                attempt += 1
                logger.debug("ingest group went again after a conflict with another transaction", metadata: ["attempt": "\(attempt)"])
            }
        }
    }


    /// A deadlock (40P01) or serialization failure (40001): nothing is wrong with the group, it
    /// only met another transaction, and goes again.
    static func isConflict(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}
