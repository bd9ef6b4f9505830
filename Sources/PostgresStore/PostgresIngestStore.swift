import ChannelKit
import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `IngestStore` on PostgreSQL: a group of webhooks in one transaction, as on SQLite. Several
/// processes may file the same events at once, so every find-or-create holds against a concurrent
/// transaction (`PostgresIngestWriter`). The transaction takes `event_seq`'s lock first, as every
/// writer that appends to the event log does (one lock order: the counter, then rows), and only
/// then takes its group from the ingest queue: the webhooks that arrived while another process (or
/// another writer) held the lock join this group instead of waiting for the next. With two
/// processes taking turns at the lock, a group formed before the wait held half of what one
/// process's group held, and each group's round trips were spread over half the events. (A group
/// of redeliveries only, which changes nothing, takes the lock too.) Under the
/// lock the group's dedupe rows go first (`INSERT ... ON CONFLICT DO NOTHING` on
/// `processed_events`' key: an event another process filed is a duplicate), then contacts,
/// identities and tickets are found or created. Should a group still meet a deadlock (with another
/// kind of writer), PostgreSQL fails one transaction and that group goes again whole, finding what
/// the other committed.
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
    /// The group is taken once, by the first transaction that holds the lock (or, when none gets
    /// that far, before failing it); a second attempt files the same group.
    nonisolated(nonsending) public func file(taking take: nonisolated(nonsending) @Sendable () async -> IngestGroup) async -> [Result<IngestResult, any Error>] {
        var taken: IngestGroup?
        do {
            return try await retrying {
                try await client.transaction(logger: logger, appendsToLog: true) { connection in
                    let group = if let taken { taken } else { await take() }
                    taken = group
                    return try await Self.write(group.webhooks, now: group.now.ms, on: connection, logger: logger).map { .success($0) }
                }
            }
        } catch {
            logger.debug("ingest group failed; filing its webhooks one savepoint each", metadata: ["webhooks": "\(taken?.webhooks.count ?? 0)"])
        }
        let whole = if let taken { taken } else { await take() }
        let (group, now) = (whole.webhooks, whole.now.ms)
        do {
            return try await retrying {
                try await client.transaction(logger: logger, appendsToLog: true) { connection in
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
