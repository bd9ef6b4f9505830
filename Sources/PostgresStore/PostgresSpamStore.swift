import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `SpamStore` on PostgreSQL, for several bridge processes on one database.
///
/// - The word counts are shared by every process and only ever changed by relative updates
///   (`spam = spam + 1` in an `INSERT ... ON CONFLICT (token) DO UPDATE`, `greatest(spam - 1, 0)`),
///   so two processes training at once lose no count. A decision takes the event log's counter
///   (`event_seq`) first, as every writer of logged rows does, then the ticket (the assignments'
///   `lockTicket`): decisions on one ticket take turns, and a re-label sees the label before it.
/// - `trained` is worked out with `spam_state`'s row locked and counted in the statement after,
///   so the last process to refresh it sees every training committed before.
/// - Screening reads and scores outside any lock, then marks each ticket with
///   `UPDATE ... WHERE screened = 0 RETURNING`: of two processes screening one ticket, the second
///   waits for the first's commit and then finds it screened, so it is screened (and its
///   `spam_filter` history written) once.
public struct PostgresSpamStore: SpamStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func mark(ticketId: Int64, spam: Bool, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let logger = logger
        let now = now.ms
        let status: TicketStatus = spam ? .spam : .open
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            _ = try await PostgresAssignmentStore.lockTicket(ticketId, on: connection, check: check, logger: logger)
            let from = try await connection.query("SELECT status FROM tickets WHERE id = \(ticketId)", logger: logger).decode(String.self).all().first
            try await connection.query("""
                UPDATE tickets SET status = \(status.rawValue), updated_at = \(now), resolved_at = NULL,
                    queued_at = CASE WHEN \(spam) THEN NULL ELSE queued_at END, resolution_reason = CASE WHEN \(spam) THEN 'spam' ELSE NULL END
                WHERE id = \(ticketId)
                """, logger: logger)
            try await PostgresTicketHistory.record(
                ticketId, spam ? "marked_spam" : "restored_from_spam", by: actor.label, ["from": from], at: now, on: connection, logger: logger)
            try await Self.train(ticketId, label: spam ? "spam" : "ham", on: connection, logger: logger)
        }
    }

    public func setMinimum(_ minimum: Int) async throws {
        let logger = logger
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT 1 FROM spam_state WHERE id = 1 FOR UPDATE", logger: logger)
            try await connection.query("UPDATE spam_state SET minimum = \(max(1, minimum)) WHERE id = 1", logger: logger)
            try await Self.refreshState(on: connection, logger: logger)
        }
    }

    public func threshold() async throws -> Double? {
        try await client.query("SELECT threshold FROM spam_state WHERE id = 1", logger: logger).decode(Double?.self).all().first ?? nil
    }

    public func setThreshold(_ threshold: Double?) async throws {
        try await client.query("UPDATE spam_state SET threshold = \(threshold) WHERE id = 1", logger: logger)
    }

    public func counts(of tokens: Set<String>) async throws -> SpamCounts {
        try await Self.counts(of: tokens, client: client, logger: logger)
    }

    public func screen(threshold: Double, minimum: Int, limit: Int, at now: Date) async throws -> [Int64] {
        let logger = logger
        let now = now.ms
        // Read and score with no lock held (nothing waiting, the usual case, ends here).
        let ids = try await client.query("SELECT id FROM tickets WHERE screened = 0 ORDER BY id LIMIT \(limit)", logger: logger).decode(Int64.self).all()
        guard !ids.isEmpty else { return [] }
        var texts: [Int64: [String]] = [:]
        for try await (ticketId, text) in try await client.query(
            "SELECT ticket_id, text FROM messages WHERE ticket_id = ANY(\(ids)) AND direction = 'in' ORDER BY id", logger: logger
        ).decode((Int64, String).self) {
            texts[ticketId, default: []].append(text)
        }
        let tokens = Dictionary(uniqueKeysWithValues: ids.map { ($0, SpamWords.tokens((texts[$0] ?? []).joined(separator: "\n"))) })
        let counts = try await Self.counts(of: tokens.values.reduce(into: Set<String>()) { $0.formUnion($1) }, client: client, logger: logger)
        let scored = ids.map { (id: $0, probability: SpamWords.probability(tokens[$0] ?? [], counts: counts, minimum: minimum)) }
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            var flagged: [Int64] = []
            for (ticketId, probability) in scored {
                if let probability, probability >= threshold {
                    let sent = try await connection.query("""
                        UPDATE tickets SET screened = 1, spam_score = \(probability), status = 'spam', queued_at = NULL, updated_at = \(now)
                        WHERE id = \(ticketId) AND screened = 0 AND status IN ('new', 'open') RETURNING id
                        """, logger: logger).decode(Int64.self).all()
                    if !sent.isEmpty {
                        try await PostgresTicketHistory.record(
                            ticketId, "spam_filter", by: Caller.system.label, ["probability": SpamWords.shown(probability)], at: now, on: connection,
                            logger: logger)
                        flagged.append(ticketId)
                        continue
                    }
                }
                try await connection.query("""
                    UPDATE tickets SET screened = 1, spam_score = coalesce(spam_score, \(probability)::double precision) WHERE id = \(ticketId) AND screened = 0
                    """, logger: logger)
            }
            return flagged
        }
    }

    static func counts(of tokens: Set<String>, client: PostgresClient, logger: Logger) async throws -> SpamCounts {
        let documents = try await client.query("""
            SELECT count(*) FILTER (WHERE label = 'spam'), count(*) FILTER (WHERE label = 'ham') FROM spam_training
            """, logger: logger).decode((Int, Int).self).all().first ?? (0, 0)
        var counts: [String: SpamCounts.TokenCount] = [:]
        if !tokens.isEmpty {
            for try await (token, spam, ham) in try await client.query(
                "SELECT token, spam, ham FROM spam_tokens WHERE token = ANY(\(Array(tokens)))", logger: logger
            ).decode((String, Int, Int).self) {
                counts[token] = SpamCounts.TokenCount(spam: spam, ham: ham)
            }
        }
        return SpamCounts(spamTickets: documents.0, hamTickets: documents.1, tokens: counts)
    }

    /// Teaches the filter a ticket's customer words under `label` inside the caller's transaction
    /// (which holds the ticket); a ticket trained before under the other label has its old counts
    /// taken back first.
    static func train(_ ticketId: Int64, label: String, on connection: PostgresConnection, logger: Logger) async throws {
        let previous = try await connection.query(
            "SELECT label, tokens FROM spam_training WHERE ticket_id = \(ticketId)", logger: logger
        ).decode((String, String).self).all().first
        if let previous {
            if previous.0 == label { return }
            let column = previous.0 == "spam" ? "spam" : "ham"
            let tokens = try ContentCoding.decode([String].self, previous.1)
            try await connection.query("""
                UPDATE spam_tokens SET \(unescaped: column) = greatest(\(unescaped: column) - 1, 0) WHERE token = ANY(\(tokens))
                """, logger: logger)
        }
        let texts = try await connection.query(
            "SELECT text FROM messages WHERE ticket_id = \(ticketId) AND direction = 'in' ORDER BY id", logger: logger
        ).decode(String.self).all()
        let tokens = SpamWords.tokens(texts.joined(separator: "\n")).sorted()
        let column = label == "spam" ? "spam" : "ham"
        try await connection.query("""
            INSERT INTO spam_tokens (token, \(unescaped: column)) SELECT token, 1 FROM unnest(\(tokens)::text[]) AS token ORDER BY token
            ON CONFLICT (token) DO UPDATE SET \(unescaped: column) = spam_tokens.\(unescaped: column) + 1
            """, logger: logger)
        try await connection.query("""
            INSERT INTO spam_training (ticket_id, label, tokens) VALUES (\(ticketId), \(label), \(try ContentCoding.encode(tokens)))
            ON CONFLICT (ticket_id) DO UPDATE SET label = excluded.label, tokens = excluded.tokens
            """, logger: logger)
        try await connection.query("SELECT 1 FROM spam_state WHERE id = 1 FOR UPDATE", logger: logger)
        try await refreshState(on: connection, logger: logger)
    }

    /// Trained once there are `minimum` tickets of each kind; with `spam_state`'s row locked by the caller.
    static func refreshState(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            UPDATE spam_state SET trained = CASE WHEN (SELECT count(*) FROM spam_training WHERE label = 'spam') >= minimum
                AND (SELECT count(*) FROM spam_training WHERE label = 'ham') >= minimum THEN 1 ELSE 0 END
            WHERE id = 1
            """, logger: logger)
    }
}
