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
    /// see each other's schema (`FreshPostgresDatabase`).
    static func withFreshDatabase(_ body: (PostgresSettings) async throws -> Void) async throws {
        try await FreshPostgresDatabase.with(on: try settings(), logger: logger, body)
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
