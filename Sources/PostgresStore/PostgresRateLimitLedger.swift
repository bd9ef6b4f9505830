import ChannelKit
import Foundation
import Logging
import PostgresNIO

/// `RateLimitLedger` on PostgreSQL: the token buckets every bridge process on the database shares,
/// so an account's limit holds for the whole cluster. A reservation is one upsert: it refills the
/// bucket by the wall time elapsed since its latest reservation (capped at the burst), takes one
/// token and answers the balance, from which `RateLimit.wait(afterReservingTo:)` makes the wait.
/// Two processes reserving at once reach the same row; the second waits on the first's row lock and
/// then works from the committed balance, so no token is handed out twice. The arithmetic is
/// `TokenBucketState`'s, term for term in float8 (IEEE doubles, as in Swift).
///
/// The processes' clocks are compared: a reservation stamped earlier than the bucket's latest
/// refills nothing and leaves the stamp where it is, so clocks that disagree make the limit
/// stricter, never looser (beyond one refill of at most the burst when a faster clock first speaks).
public struct PostgresRateLimitLedger: RateLimitLedger {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func reserve(_ name: String, limit: RateLimit, at now: Date) async throws -> Duration {
        let burst = Double(limit.burst)
        let rows: PostgresRowSequence
        do {
            // `full_at` is `TokenBucketState.fullAt`: when the balance left will have refilled to the
            // burst. `ON CONFLICT DO UPDATE` cannot name the new balance, so `full_at` works it out again.
            rows = try await client.query("""
                INSERT INTO rate_limit_buckets AS b (bucket, tokens, updated_at, full_at)
                VALUES (\(name), \(burst) - 1, \(RateLimit.milliseconds(now)), \(RateLimit.milliseconds(now) + TokenBucketState.refillMilliseconds(from: burst - 1, to: limit)))
                ON CONFLICT (bucket) DO UPDATE SET
                    tokens = LEAST(\(burst), b.tokens + GREATEST(0, excluded.updated_at - b.updated_at)::float8 / 1000::float8 * \(limit.perSecond)) - 1,
                    updated_at = GREATEST(b.updated_at, excluded.updated_at),
                    full_at = GREATEST(b.updated_at, excluded.updated_at) + ceil((\(burst)
                        - (LEAST(\(burst), b.tokens + GREATEST(0, excluded.updated_at - b.updated_at)::float8 / 1000::float8 * \(limit.perSecond)) - 1))
                        * 1000::float8 / \(limit.perSecond))::bigint
                RETURNING tokens
                """, logger: logger)
            for try await balance in rows.decode(Double.self) { return limit.wait(afterReservingTo: balance) }
        } catch {
            logger.warning("could not reserve a token", metadata: ["rate_limit.bucket": "\(name)", "error": "\(PostgresStoreError.reason(error))"])
            throw error
        }
        throw PostgresRateLimitLedgerError.noBalance(bucket: name)
    }

    public func refund(_ name: String, limit: RateLimit) async throws {
        try await client.query("""
            UPDATE rate_limit_buckets SET tokens = LEAST(\(Double(limit.burst)), tokens + 1),
                full_at = updated_at + ceil((\(Double(limit.burst)) - LEAST(\(Double(limit.burst)), tokens + 1)) * 1000::float8 / \(limit.perSecond))::bigint
            WHERE bucket = \(name)
            """, logger: logger)
    }

    public func remove(_ name: String) async throws {
        try await client.query("DELETE FROM rate_limit_buckets WHERE bucket = \(name)", logger: logger)
    }

    public func removeFull(at now: Date) async throws -> Int {
        let rows = try await client.query("""
            WITH gone AS (DELETE FROM rate_limit_buckets WHERE full_at <= \(RateLimit.milliseconds(now)) RETURNING 1) SELECT count(*) FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}

/// The upsert answered no row (it always answers one; a broken server or schema).
enum PostgresRateLimitLedgerError: Error {
    case noBalance(bucket: String)
}
