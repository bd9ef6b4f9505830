@testable import BridgeServer
import Foundation
import Logging
import PostgresStore
import Testing
import TestSupport

/// Which database the test bridges (`TestBridge`) serve from: SQLite, or with
/// `BRIDGE_TEST_DATABASE=postgres` a fresh PostgreSQL database per bridge on the throwaway server
/// at `BRIDGE_TEST_POSTGRES_URL` (scripts/test.sh runs the ServerTests both ways).
enum TestDatabase {
    static let environment = ProcessInfo.processInfo.environment
    static let isPostgres = environment["BRIDGE_TEST_DATABASE"] == "postgres"
    static let isSQLite = !isPostgres
    static let sqliteOnly: Comment = "reads the SQLite file directly"

    static let logger: Logger = {
        var logger = Logger(label: "bridge-test-postgres")
        logger.logLevel = .warning
        return logger
    }()

    /// The throwaway server's settings; a clear failure when PostgreSQL was asked for without one.
    static func server() throws -> PostgresSettings {
        guard let url = environment["BRIDGE_TEST_POSTGRES_URL"] else {
            throw ConfigError(key: "BRIDGE_TEST_POSTGRES_URL", problem: "must be set with BRIDGE_TEST_DATABASE=postgres (scripts/postgres.sh start DIR prints it)")
        }
        guard case .postgres(let settings) = try DatabaseURL.parse(url, key: "BRIDGE_TEST_POSTGRES_URL") else {
            throw ConfigError(key: "BRIDGE_TEST_POSTGRES_URL", problem: "must be a postgres:// URL")
        }
        return settings
    }

    /// A fresh database at this binary's schema, copied from a template migrated once per run.
    static func fresh() async throws -> FreshPostgresDatabase {
        let server = try server()
        return try await FreshPostgresDatabase.create(on: server, template: try await template.value, logger: logger)
    }

    private static let template = Task { try await FreshPostgresDatabase.makeTemplate(on: try server(), logger: logger) }
}
