import Foundation
import Logging
import PostgresNIO

/// One step of the PostgreSQL schema: statements run in one transaction, recorded in
/// `schema_migrations` under `version`. A shipped migration never changes; changes are new ones.
public struct PostgresMigration: Sendable {
    public var version: Int
    public var name: String
    /// One statement each (the extended query protocol takes one at a time; a function body's
    /// semicolons stay inside its statement).
    public var statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// `bridge migrate` on PostgreSQL: applies the migrations the database lacks, each in its own
/// transaction. Each transaction first takes a transaction-level advisory lock, so processes
/// migrating at once take turns: the second finds the first's migrations recorded and skips them.
public enum PostgresMigrator {
    /// The advisory lock key ("bridge" in ASCII): one schema per database, one migrator at a time.
    public static let lockKey: Int64 = 0x62_72_69_64_67_65

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
        let latest = migrations.map(\.version).max() ?? 0
        var applied: [Int] = []
        while true {
            let step: (version: Int, name: String)?
            do {
                step = try await connection.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                    try await connection.query(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                        logger: logger)
                    let done = try await versions(connection, logger: logger)
                    if let newest = done.max(), newest > latest {
                        throw PostgresStoreError.schemaNewer(server: server, database: newest, binary: latest)
                    }
                    guard let next = migrations.sorted(by: { $0.version < $1.version }).first(where: { !done.contains($0.version) }) else {
                        return nil
                    }
                    do {
                        for statement in next.statements {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                    } catch {
                        throw PostgresStoreError.migrationFailed(server: server, version: next.version, name: next.name, reason: PostgresStoreError.reason(error))
                    }
                    let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(next.version), \(next.name), \(now))", logger: logger)
                    return (next.version, next.name)
                }
            } catch let error as PostgresTransactionError {
                if let ours = error.closureError as? PostgresStoreError { throw ours }
                throw PostgresStoreError.migrateFailed(server: server, reason: PostgresStoreError.reason(error))
            }
            guard let step else { break }
            logger.info("postgres migration applied", metadata: ["version": "\(step.version)", "name": "\(step.name)"])
            applied.append(step.version)
        }
        return Outcome(applied: applied, version: latest)
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
