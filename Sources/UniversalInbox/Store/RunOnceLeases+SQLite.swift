import Foundation
import GRDB

extension Schema {
    /// Run-once leases (v25, `RunOnceLeases`): one row per duty, its holder and the lease's expiry.
    static let runOnceLeases = """
        CREATE TABLE run_once_leases (
            duty TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """
}

/// `RunOnceLeases` on SQLite. A SQLite database is served by one process (`ServingLock`), so the
/// leases only ever change hands at a restart; the bridge releases what a crashed predecessor left
/// (`releaseAll`) once it holds the serving lock, so its duties start at once.
public struct SQLiteRunOnceLeases: RunOnceLeases {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func take(_ duty: String, holder: String, until: Date, now: Date) async throws -> Bool {
        try await database.pool.write { db in
            // The upsert changes the row only when it is free (no row, or its lease ran out) or ours.
            try String.fetchOne(db, sql: """
                INSERT INTO run_once_leases (duty, holder, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (duty) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE run_once_leases.holder = excluded.holder OR run_once_leases.expires_at <= ?
                RETURNING holder
                """, arguments: [duty, holder, until.ms, now.ms]) != nil
        }
    }

    public func renew(_ duties: Set<String>, holder: String, until: Date) async throws -> Set<String> {
        guard !duties.isEmpty else { return [] }
        return try await database.pool.write { db in
            Set(try String.fetchAll(db, sql: """
                UPDATE run_once_leases SET expires_at = ? WHERE holder = ? AND duty IN (SELECT value FROM json_each(?)) RETURNING duty
                """, arguments: [until.ms, holder, try ContentCoding.encode(duties.sorted())]))
        }
    }

    public func release(holder: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM run_once_leases WHERE holder = ?", arguments: [holder])
        }
    }

    /// Frees every lease: only for a process that holds the database's serving lock, which proves
    /// that no other process can be holding one.
    public func releaseAll() throws {
        try database.pool.write { db in try db.execute(sql: "DELETE FROM run_once_leases") }
    }
}
