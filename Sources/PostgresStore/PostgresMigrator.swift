import Foundation
import Logging
import PostgresNIO

/// One step of the PostgreSQL schema, recorded in `schema_migrations` under `version`. A shipped
/// migration never changes what it makes; changes are new ones.
public struct PostgresMigration: Sendable {
    public var version: Int
    public var name: String
    public var change: Change

    public enum Change: Sendable {
        /// Run in one transaction, one statement each (the extended query protocol takes one at a
        /// time; a function body's semicolons stay inside its statement).
        case statements([String])
        /// An index on a table that may already be large, built with `CREATE INDEX CONCURRENTLY`
        /// outside any transaction: a plain `CREATE INDEX` holds off every insert and update of the
        /// table while it builds, which on a running cluster's `messages` means minutes without ingest.
        case index(ConcurrentIndex)
    }

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        change = .statements(statements)
    }

    public init(version: Int, name: String, index: ConcurrentIndex) {
        self.version = version
        self.name = name
        change = .index(index)
    }

    /// `CREATE INDEX CONCURRENTLY <name> ON <table> <columns>`; `columns` with any `WHERE` after them.
    public struct ConcurrentIndex: Sendable {
        public var name: String
        public var table: String
        public var columns: String

        public init(name: String, table: String, columns: String) {
            self.name = name
            self.table = table
            self.columns = columns
        }
    }
}

/// `bridge migrate` on PostgreSQL: applies the migrations the database lacks, in order, under a
/// session advisory lock, so processes migrating at once take turns: the second finds the first's
/// migrations recorded and skips them. Each migration is its own transaction, except an index built
/// concurrently, which is in none.
///
/// A migrator waiting for the lock asks again every `lockPoll` rather than blocking in
/// `pg_advisory_lock`: a blocked statement holds a snapshot, and an index built concurrently waits
/// for every older snapshot in the database to end, so the two would wait on each other until
/// PostgreSQL's deadlock check cancelled one, perhaps the build. (Bridges before this change wait in
/// `pg_advisory_xact_lock`: do not run an older `bridge migrate` beside a newer one.)
public enum PostgresMigrator {
    /// The advisory lock key ("bridge" in ASCII): one schema per database, one migrator at a time.
    public static let lockKey: Int64 = 0x62_72_69_64_67_65
    static let lockPoll: Duration = .milliseconds(100)

    public struct Outcome: Sendable, Equatable {
        /// The versions this run applied, in order (empty: the schema was already current).
        public var applied: [Int]
        /// The schema's version now.
        public var version: Int

        public init(applied: [Int], version: Int) {
            self.applied = applied
            self.version = version
        }
    }

    /// Connects to `settings`' database, migrates it and disconnects.
    public static func migrate(
        _ settings: PostgresSettings, migrations: [PostgresMigration] = PostgresSchema.migrations, logger: Logger
    ) async throws -> Outcome {
        try await PostgresConnector.withConnection(settings, logger: logger) { connection in
            try await migrate(connection, server: settings.serverDescription, migrations: migrations, logger: logger)
        }
    }

    /// Migrates through an open connection (`server` names it in errors).
    public static func migrate(
        _ connection: PostgresConnection, server: String, migrations: [PostgresMigration] = PostgresSchema.migrations, logger: Logger
    ) async throws -> Outcome {
        do {
            try await lock(connection, logger: logger)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw PostgresStoreError.migrateFailed(server: server, reason: PostgresStoreError.reason(error))
        }
        let outcome: Outcome
        do {
            outcome = try await steps(connection, server: server, migrations: migrations, logger: logger)
        } catch {
            // Freed for the next migrator on this connection's session (it goes with the session too).
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            if error is PostgresStoreError { throw error }
            throw PostgresStoreError.migrateFailed(server: server, reason: PostgresStoreError.reason(error))
        }
        do {
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
        } catch {
            // Everything is applied; the lock goes when the session ends.
            logger.warning("postgres migrator lock not released", metadata: ["error": "\(PostgresStoreError.reason(error))"])
        }
        return outcome
    }

    /// Takes the migrators' lock, asking again every `lockPoll` while another session holds it.
    /// A build cut off from its client stops within a second (`client_connection_check_interval`),
    /// leaving an invalid index for the next run to drop, instead of holding the lock until it ends.
    private static func lock(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT set_config('client_connection_check_interval', '1000', false) WHERE current_setting('server_version_num')::int >= 140000",
            logger: logger)
        var waiting = false
        while try await connection.query("SELECT pg_try_advisory_lock(\(lockKey))", logger: logger).decode(Bool.self).all().first != true {
            if !waiting {
                waiting = true
                let holder = try await connection.query(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND ((classid::bigint << 32) | objid::bigint) = \(lockKey)",
                    logger: logger).decode(Int32.self).all().first
                logger.info("postgres migration waiting for another migrator", metadata: ["holder.pid": "\(holder.map(String.init) ?? "unknown")"])
            }
            try await Task.sleep(for: lockPoll)
        }
    }

    /// The migrations the database lacks, in order, with the migrators' lock held.
    private static func steps(
        _ connection: PostgresConnection, server: String, migrations: [PostgresMigration], logger: Logger
    ) async throws -> Outcome {
        let latest = migrations.map(\.version).max() ?? 0
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)", logger: logger)
        let done = try await versions(connection, logger: logger)
        if let newest = done.max(), newest > latest {
            throw PostgresStoreError.schemaNewer(server: server, database: newest, binary: latest)
        }
        var applied: [Int] = []
        for next in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(next.version) {
            /// A failure of the migration's own statements, named with the migration.
            func failed(_ error: any Error) -> PostgresStoreError {
                .migrationFailed(server: server, version: next.version, name: next.name, reason: PostgresStoreError.reason(error))
            }
            switch next.change {
            case .statements(let statements):
                do {
                    try await connection.withTransaction(logger: logger) { connection in
                        do {
                            for statement in statements {
                                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                            }
                        } catch {
                            throw failed(error)
                        }
                        try await record(next, on: connection, logger: logger)
                    }
                } catch let error as PostgresTransactionError {
                    if let ours = error.closureError as? PostgresStoreError { throw ours }
                    throw error
                }
            case .index(let index):
                do {
                    try await build(index, on: connection, logger: logger)
                } catch let error as PostgresStoreError {
                    throw error
                } catch {
                    throw failed(error)
                }
                try await record(next, on: connection, logger: logger)
            }
            logger.info("postgres migration applied", metadata: ["version": "\(next.version)", "name": "\(next.name)"])
            applied.append(next.version)
        }
        return Outcome(applied: applied, version: latest)
    }

    /// Builds `index` unless a valid one of that name is on its table (a build that finished before
    /// its migration was recorded). An invalid one, left by a build that failed or was cancelled, is
    /// dropped first: `CREATE INDEX CONCURRENTLY` leaves it behind, unused but kept up to date. A
    /// relation of that name that is not an index on the table is an error, not something to drop.
    private static func build(_ index: PostgresMigration.ConcurrentIndex, on connection: PostgresConnection, logger: Logger) async throws {
        let found = try await connection.query(
            """
            SELECT CASE WHEN i.indrelid IS DISTINCT FROM to_regclass(\(index.table)) THEN 'other' WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END
            FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = to_regclass(\(index.name))
            """, logger: logger).decode(String.self).all().first
        switch found {
        case "valid"?: return
        case "invalid"?: try await connection.query(PostgresQuery(unsafeSQL: "DROP INDEX CONCURRENTLY \(index.name)"), logger: logger)
        case "other"?: throw BuildError(reason: "\(index.name) exists and is not an index on \(index.table); rename or drop it, then migrate again")
        default: break
        }
        // It waits first for the transactions writing the table, then for every transaction in the
        // database that began before it (a long report, a dump): migrate outside a backup's time.
        logger.info("postgres index building concurrently; writes go on meanwhile", metadata: ["index": "\(index.name)"])
        try await connection.query(
            PostgresQuery(unsafeSQL: "CREATE INDEX CONCURRENTLY \(index.name) ON \(index.table) \(index.columns)"), logger: logger)
    }

    /// Why an index migration could not build its index (not the server's words).
    struct BuildError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    private static func record(_ migration: PostgresMigration, on connection: PostgresConnection, logger: Logger) async throws {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        try await connection.query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(now))", logger: logger)
    }

    /// The schema's version (0 when never migrated). A serving bridge refuses one that is not its own.
    public static func version(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return 0 }
        return try await versions(connection, logger: logger).max() ?? 0
    }

    private static func versions(_ connection: PostgresConnection, logger: Logger) async throws -> Set<Int> {
        var done: Set<Int> = []
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
            done.insert(version)
        }
        return done
    }
}
