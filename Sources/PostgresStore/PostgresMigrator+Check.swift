import Logging
import PostgresNIO

extension PostgresMigrator {
    /// For a process about to serve: the schema at `settings` must be exactly this binary's. Throws
    /// `cannotConnect` when the server cannot be reached, `schemaNewer` when a newer bridge migrated
    /// it and `schemaOlder` when it needs `bridge migrate` first (serving never migrates: a rolling
    /// upgrade migrates once, then starts the new processes). Changes nothing.
    public static func checkVersion(
        _ settings: PostgresSettings, migrations: [PostgresMigration] = PostgresSchema.migrations, logger: Logger
    ) async throws {
        let server = settings.serverDescription
        let latest = migrations.map(\.version).max() ?? 0
        let version = try await PostgresConnector.withConnection(settings, logger: logger) { connection in
            do {
                return try await Self.version(connection, logger: logger)
            } catch {
                throw PostgresStoreError.cannotConnect(server: server, reason: "cannot read the schema version: \(PostgresStoreError.reason(error))")
            }
        }
        if version > latest { throw PostgresStoreError.schemaNewer(server: server, database: version, binary: latest) }
        if version < latest { throw PostgresStoreError.schemaOlder(server: server, database: version, binary: latest) }
    }
}
