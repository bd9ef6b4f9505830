import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `RunOnceLeases` on PostgreSQL, for several bridge processes on one database. A take is one
/// upsert: two processes taking a free duty at once both reach the same row, PostgreSQL makes the
/// second wait on the first's row lock and then re-checks the condition against the committed
/// row, so exactly one of them gets it.
public struct PostgresRunOnceLeases: RunOnceLeases {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func take(_ duty: String, holder: String, until: Date, now: Date) async throws -> Bool {
        let rows = try await client.query("""
            INSERT INTO run_once_leases (duty, holder, expires_at) VALUES (\(duty), \(holder), \(until.ms))
            ON CONFLICT (duty) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE run_once_leases.holder = excluded.holder OR run_once_leases.expires_at <= \(now.ms)
            RETURNING holder
            """, logger: logger)
        for try await _ in rows.decode(String.self) { return true }
        return false
    }

    public func renew(_ duties: Set<String>, holder: String, until: Date) async throws -> Set<String> {
        guard !duties.isEmpty else { return [] }
        let rows = try await client.query("""
            UPDATE run_once_leases SET expires_at = \(until.ms) WHERE holder = \(holder) AND duty = ANY(\(duties.sorted())) RETURNING duty
            """, logger: logger)
        var renewed: Set<String> = []
        for try await duty in rows.decode(String.self) { renewed.insert(duty) }
        return renewed
    }

    public func release(holder: String) async throws {
        try await client.query("DELETE FROM run_once_leases WHERE holder = \(holder)", logger: logger)
    }
}
