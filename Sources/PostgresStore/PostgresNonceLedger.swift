import ChannelKit
import Foundation
import Logging
import PostgresNIO

/// `NonceLedger` on PostgreSQL: the nonces every bridge process on the database has seen, so a
/// signature replayed to another process behind the load balancer is refused there too. A record
/// is one upsert: a new nonce, an expired one, or the same body again is written (answering a
/// row); a live nonce with another body is left alone and answers none. Two processes recording
/// one nonce at once meet on its key; the second waits for the first's row and then decides on it.
public struct PostgresNonceLedger: NonceLedger {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func record(_ use: SignatureUse, at now: Date) async throws -> Bool {
        let rows = try await client.query("""
            INSERT INTO webhook_nonces AS n (signer, nonce, digest, expires_at)
            VALUES (\(use.signer), \(use.nonce), \(use.digest), \(RateLimit.milliseconds(use.expires)))
            ON CONFLICT (signer, nonce) DO UPDATE SET digest = excluded.digest, expires_at = excluded.expires_at
            WHERE n.expires_at <= \(RateLimit.milliseconds(now)) OR n.digest = excluded.digest
            RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func removeExpired(at now: Date) async throws -> Int {
        let rows = try await client.query("""
            WITH gone AS (DELETE FROM webhook_nonces WHERE expires_at <= \(RateLimit.milliseconds(now)) RETURNING 1) SELECT count(*) FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}
