@testable import BridgeServer
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Testing
import TestSupport

/// The throwaway PostgreSQL that scripts/test.sh starts (scripts/postgres.sh), from
/// `BRIDGE_TEST_POSTGRES_URL`. Without it the tests that need a server are reported as skipped.
enum TestServer {
    static let url = ProcessInfo.processInfo.environment["BRIDGE_TEST_POSTGRES_URL"]
    static let socketURL = ProcessInfo.processInfo.environment["BRIDGE_TEST_POSTGRES_SOCKET_URL"]
    static let available = url != nil
    static let skipReason: Comment = "BRIDGE_TEST_POSTGRES_URL is not set (scripts/test.sh starts a throwaway PostgreSQL with scripts/postgres.sh)"
    static let logger: Logger = {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// The server's settings, parsed as `database.url` is.
    static func settings(_ url: String? = TestServer.url) throws -> PostgresSettings {
        guard let url else { throw SkipError() }
        guard case .postgres(let settings) = try DatabaseURL.parse(url, key: "BRIDGE_TEST_POSTGRES_URL") else { throw SkipError() }
        return settings
    }

    /// Runs `body` with a new empty database on the server, dropped afterwards, so tests do not
    /// see each other's schema.
    static func withFreshDatabase(_ body: (PostgresSettings) async throws -> Void) async throws {
        let server = try settings()
        await databaseGate.enter()
        do {
            try await withFreshDatabase(on: server, body)
            await databaseGate.leave()
        } catch {
            await databaseGate.leave()
            throw error
        }
    }

    private static func withFreshDatabase(on server: PostgresSettings, _ body: (PostgresSettings) async throws -> Void) async throws {
        let name = "bridge_test_\(UInt64.random(in: 0...UInt64.max))"
        try await PostgresConnector.withConnection(server, logger: logger) { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var fresh = server
        fresh.database = name
        do {
            try await body(fresh)
        } catch {
            try? await drop(name, on: server)
            throw error
        }
        try await drop(name, on: server)
    }

    /// A few fresh databases at a time (see `TestGate`): each test's clients hold connections.
    private static let databaseGate = TestGate(limit: 8)

    private static func drop(_ name: String, on server: PostgresSettings) async throws {
        try await PostgresConnector.withConnection(server, logger: logger) { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
        }
    }

    struct SkipError: Error {}
}

extension PostgresConnection {
    /// The single value of a one-row, one-column query.
    func value<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T {
        for try await value in try await self.query(query, logger: TestServer.logger).decode(T.self) { return value }
        throw NoRow()
    }

    func values<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> [T] {
        var values: [T] = []
        for try await value in try await self.query(query, logger: TestServer.logger).decode(T.self) { values.append(value) }
        return values
    }

    struct NoRow: Error {}
}
