import Foundation
import PostgresNIO
import UniversalInbox

extension PostgresSchema {
    /// Version 19 (`email-opt-outs`): the e-mail opt-out list and the key unsubscribe links are
    /// sealed with (the twin of SQLite's `v33-email-opt-outs`; the key as base64 text).
    static let emailOptOuts = [
        """
        CREATE TABLE email_opt_outs (
            address TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            created_by TEXT,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE unsubscribe_keys (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            key TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
    ]
}

/// The e-mail opt-out list on PostgreSQL (see `EmailOptOutStore`). The key is inserted with
/// `ON CONFLICT DO NOTHING` and read back, so two processes making it at once end up with one.
extension PostgresCampaignStore {
    public func addOptOut(_ entry: EmailOptOut) async throws -> Bool {
        let rows = try await client.query("""
            INSERT INTO email_opt_outs (address, source, created_by, created_at)
            VALUES (\(entry.address), \(entry.source), \(entry.createdBy), \(entry.createdAt.ms))
            ON CONFLICT (address) DO NOTHING RETURNING address
            """, logger: logger)
        return try await !rows.decode(String.self).all().isEmpty
    }

    public func removeOptOut(address: String) async throws -> Bool {
        let rows = try await client.query("DELETE FROM email_opt_outs WHERE address = \(address) RETURNING address", logger: logger)
        return try await !rows.decode(String.self).all().isEmpty
    }

    public func optOut(address: String) async throws -> EmailOptOut? {
        let rows = try await client.query(
            "SELECT address, source, created_by, created_at FROM email_opt_outs WHERE address = \(address)", logger: logger)
        return try await rows.decode((String, String, String?, Int64).self).all().first.map(Self.optOut)
    }

    public func optOuts(after: String?, limit: Int) async throws -> [EmailOptOut] {
        let rows = try await client.query("""
            SELECT address, source, created_by, created_at FROM email_opt_outs
            WHERE \(after)::text IS NULL OR address > \(after) ORDER BY address LIMIT \(limit)
            """, logger: logger)
        return try await rows.decode((String, String, String?, Int64).self).all().map(Self.optOut)
    }

    public func unsubscribeKey(candidate: Data) async throws -> Data {
        try await client.query("""
            INSERT INTO unsubscribe_keys (id, key, created_at) VALUES (1, \(candidate.base64EncodedString()), \(Date().ms))
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
        let rows = try await client.query("SELECT key FROM unsubscribe_keys WHERE id = 1", logger: logger)
        guard let text = try await rows.decode(String.self).all().first, let key = Data(base64Encoded: text) else { return candidate }
        return key
    }

    private static func optOut(_ row: (String, String, String?, Int64)) -> EmailOptOut {
        EmailOptOut(address: row.0, source: row.1, createdBy: row.2, createdAt: Date(ms: row.3))
    }
}
