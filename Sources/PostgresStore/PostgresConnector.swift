import Logging
import PostgresNIO

/// Opens single connections. A `PostgresClient` pool retries a server that does not answer for a
/// minute before failing its requests; one direct connection fails at once with the reason, so
/// commands (and a store about to start its pool) use this to find out.
public enum PostgresConnector {
    /// A connection to `settings`' database, or `PostgresStoreError.cannotConnect` naming the server.
    public static func connect(_ settings: PostgresSettings, logger: Logger) async throws -> PostgresConnection {
        do {
            let configuration = try settings.connectionConfiguration()
            // The id only names the connection in postgres-nio's logs.
            return try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger)
        } catch {
            throw PostgresStoreError.cannotConnect(server: settings.serverDescription, reason: PostgresStoreError.reason(error))
        }
    }

    /// Runs `body` on a new connection and closes it afterwards, whether `body` succeeds or throws.
    @discardableResult
    public static func withConnection<Result: Sendable>(
        _ settings: PostgresSettings, logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await connect(settings, logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
