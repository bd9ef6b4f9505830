import Logging
import PostgresNIO
import PostgresStore

/// A new, empty database on the throwaway PostgreSQL (scripts/postgres.sh), dropped when done, so
/// tests do not see each other's rows. StoreTests and the ServerTests' bridges on PostgreSQL both
/// make theirs here. A few exist at a time (`TestGate`): each test's clients hold connections, and
/// the server takes `max_connections` (300).
public struct FreshPostgresDatabase: Sendable {
    /// The settings of the new database (the server's, with its name).
    public let settings: PostgresSettings
    let server: PostgresSettings
    let logger: Logger

    /// A few fresh databases at a time.
    static let gate = TestGate(limit: 8)

    /// Creates an empty database on `server` (or a copy of `template`, made with
    /// `makeTemplate`), once a place at the gate is free. Give it back with `drop()`.
    public static func create(on server: PostgresSettings, template: String? = nil, logger: Logger) async throws -> FreshPostgresDatabase {
        await gate.enter()
        do {
            let name = "bridge_test_\(UInt64.random(in: 0...UInt64.max))"
            try await PostgresConnector.withConnection(server, logger: logger) { admin in
                let copy = template.map { " TEMPLATE \($0)" } ?? ""
                try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(copy)"), logger: logger)
            }
            var fresh = server
            fresh.database = name
            return FreshPostgresDatabase(settings: fresh, server: server, logger: logger)
        } catch {
            await gate.leave()
            throw error
        }
    }

    /// Drops the database (closing whatever connections are left) and frees its place at the gate.
    public func drop() async throws {
        do {
            try await PostgresConnector.withConnection(server, logger: logger) { admin in
                try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(settings.database) WITH (FORCE)"), logger: logger)
            }
            await Self.gate.leave()
        } catch {
            await Self.gate.leave()
            throw error
        }
    }

    /// Runs `body` with a new empty database, dropped afterwards.
    public static func with(on server: PostgresSettings, logger: Logger, _ body: (PostgresSettings) async throws -> Void) async throws {
        let fresh = try await create(on: server, logger: logger)
        do {
            try await body(fresh.settings)
        } catch {
            try? await fresh.drop()
            throw error
        }
        try await fresh.drop()
    }

    /// A database migrated to this binary's schema, for `create(on:template:)` to copy (copying is
    /// much faster than migrating each one). It stays on the throwaway server.
    public static func makeTemplate(on server: PostgresSettings, logger: Logger) async throws -> String {
        let name = "bridge_template_\(UInt64.random(in: 0...UInt64.max))"
        try await PostgresConnector.withConnection(server, logger: logger) { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var template = server
        template.database = name
        _ = try await PostgresMigrator.migrate(template, logger: logger)
        return name
    }
}
