import Foundation
import Logging
import PostgresNIO

/// One step of the PostgreSQL schema, recorded in `schema_migrations` under `version`: statements
/// run in one transaction, or one index built without blocking writes to its table. A shipped
/// migration never changes what it makes; changes are new ones.
public struct PostgresMigration: Sendable {
    public var version: Int
    public var name: String
    /// One statement each (the extended query protocol takes one at a time; a function body's
    /// semicolons stay inside its statement).
    public var statements: [String]
    /// An index on a table that may already be large (`CREATE INDEX CONCURRENTLY`, outside any
    /// transaction): a plain `CREATE INDEX` holds off every insert and update of the table while it
    /// builds, which on a running cluster's `messages` means minutes without ingest.
    public var index: ConcurrentIndex?

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }

    public init(version: Int, name: String, index: ConcurrentIndex) {
        self.init(version: version, name: name, statements: [])
        self.index = index
    }

    /// `CREATE INDEX CONCURRENTLY <name> <definition>`; `definition` from `ON` on.
    public struct ConcurrentIndex: Sendable {
        public var name: String
        public var definition: String

        public init(name: String, definition: String) {
            self.name = name
            self.definition = definition
        }
    }
}

/// `bridge migrate` on PostgreSQL: applies the migrations the database lacks, each in its own
/// transaction (an index built concurrently in none), under a session advisory lock, so processes
/// migrating at once take turns: the second finds the first's migrations recorded and skips them.
/// A migrator waiting for the lock asks again every `lockPoll` rather than blocking: a blocked
/// `pg_advisory_lock` holds a snapshot, and an index built concurrently waits for every older
/// snapshot to end, so the two would deadlock.
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
            while try await value("SELECT pg_try_advisory_lock(\(lockKey))", as: Bool.self, on: connection, logger: logger) != true {
                try await Task.sleep(for: lockPoll)
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw PostgresStoreError.migrateFailed(server: server, reason: PostgresStoreError.reason(error))
        }
        do {
            let outcome = try await steps(connection, server: server, migrations: migrations, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            return outcome
        } catch {
            // The lock goes with the session too, should the connection be what failed.
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            if error is PostgresStoreError { throw error }
            throw PostgresStoreError.migrateFailed(server: server, reason: PostgresStoreError.reason(error))
        }
    }

    /// The migrations the database lacks, in order, with the migrator's lock held.
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
            do {
                if let index = next.index {
                    try await build(index, on: connection, logger: logger)
                    try await record(next, on: connection, logger: logger)
                } else {
                    try await connection.withTransaction(logger: logger) { connection in
                        for statement in next.statements {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await record(next, on: connection, logger: logger)
                    }
                }
            } catch {
                let cause = (error as? PostgresTransactionError)?.closureError ?? error
                throw PostgresStoreError.migrationFailed(server: server, version: next.version, name: next.name, reason: PostgresStoreError.reason(cause))
            }
            logger.info("postgres migration applied", metadata: ["version": "\(next.version)", "name": "\(next.name)"])
            applied.append(next.version)
        }
        return Outcome(applied: applied, version: latest)
    }

    /// Builds `index` unless a valid one of that name is there (a build that finished before its
    /// migration was recorded). An invalid one, left by a build that was interrupted or failed, is
    /// dropped first: `CREATE INDEX CONCURRENTLY` leaves it behind, unused but kept up to date.
    private static func build(_ index: PostgresMigration.ConcurrentIndex, on connection: PostgresConnection, logger: Logger) async throws {
        let valid = try await value(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(\(index.name))", as: Bool.self, on: connection, logger: logger)
        if valid == true { return }
        if valid == false {
            try await connection.query(PostgresQuery(unsafeSQL: "DROP INDEX CONCURRENTLY \(index.name)"), logger: logger)
        }
        // It waits for every transaction open on the table when it starts, an idle one included.
        logger.info("postgres index building concurrently; writes go on meanwhile", metadata: ["index": "\(index.name)"])
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE INDEX CONCURRENTLY \(index.name) \(index.definition)"), logger: logger)
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

    /// The first column of `query`'s first row; nil when it has no row.
    private static func value<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type, on connection: PostgresConnection, logger: Logger) async throws -> T? {
        for try await value in try await connection.query(query, logger: logger).decode(T.self) { return value }
        return nil
    }

    private static func versions(_ connection: PostgresConnection, logger: Logger) async throws -> Set<Int> {
        var done: Set<Int> = []
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
            done.insert(version)
        }
        return done
    }
}
