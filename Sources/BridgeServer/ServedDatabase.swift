import ChannelKit
import Logging
import PostgresNIO
import PostgresStore
import ServiceLifecycle
import UniversalInbox

/// The database a bridge process works on, opened from `database.url`:
/// - SQLite: the file (migrated on open) and, for `bridge serve`, the serving lock that proves this
///   process is the only one on it (`bridge restore` waits for it);
/// - PostgreSQL: a `PostgresClient` (a pool) on a database whose schema is this binary's; any number
///   of processes may serve it. The client must run before the first query and stop after every
///   other service: `BridgeServices` puts `clientService` first, so it stops last.
enum ServedDatabase: Sendable {
    case sqlite(AppDatabase, lock: ServingLock?)
    case postgres(PostgresClient, settings: PostgresSettings)

    /// Opens `config.database` for serving (`servingLock`) or for a one-off command. On PostgreSQL
    /// a direct connection checks first that the server answers and the schema version is this
    /// binary's (`PostgresMigrator.checkVersion`), so a bad `database.url` fails at once, named.
    static func open(_ config: BridgeConfig, servingLock: Bool, logger: Logger) async throws -> ServedDatabase {
        switch config.database {
        case .sqlite(let path):
            if !SQLiteProcessSettings.memoryStatisticsOff {
                logger.warning(
                    "SQLite memory statistics stayed on (each SQLite allocation takes a global lock)",
                    metadata: ["sqlite.answer": "\(SQLiteProcessSettings.memoryStatisticsAnswer)"])
            }
            let lock = servingLock ? try ServingLock.serving(databasePath: path) : nil
            do {
                return .sqlite(try AppDatabase(path: path), lock: lock)
            } catch {
                lock?.release()
                throw error
            }
        case .postgres(let settings):
            do {
                try await PostgresMigrator.checkVersion(settings, logger: logger)
                var configuration = try settings.clientConfiguration()
                configuration.options.maximumConnections = config.databaseMaxConnections
                return .postgres(PostgresClient(configuration: configuration, backgroundLogger: logger), settings: settings)
            } catch let error as PostgresStoreError {
                throw StartupError(description: error.description)
            }
        }
    }

    func stores(logger: Logger) -> InboxStores {
        switch self {
        case .sqlite(let database, _): .sqlite(database)
        case .postgres(let client, _): .postgres(client: client, logger: logger)
        }
    }

    /// The run-once leases. On SQLite the serving lock proves no other process uses the database,
    /// so the leases a crashed predecessor left are freed and the duties start at once. On
    /// PostgreSQL nothing is freed: another live process may hold them; a dead one's run out.
    func runOnceLeases(_ stores: InboxStores) throws -> any RunOnceLeases {
        if case .sqlite(let database, .some) = self {
            let leases = SQLiteRunOnceLeases(database: database)
            try leases.releaseAll()
            return leases
        }
        return stores.runOnceLeases
    }

    /// Where signatures' nonces are remembered (`NonceLedger`): in this process on SQLite (it alone
    /// serves the database), in the table every process shares on PostgreSQL.
    func nonces(logger: Logger) -> any NonceLedger {
        switch self {
        case .sqlite: InProcessNonceLedger()
        case .postgres(let client, _): PostgresNonceLedger(client: client, logger: logger)
        }
    }

    /// Where the token buckets are kept (`RateLimitLedgers`).
    func rateLimits(logger: Logger) -> any RateLimitLedger {
        switch self {
        case .sqlite(_, let lock?): RateLimitLedgers.make(for: .sqlite(lock), logger: logger)
        case .sqlite: InProcessRateLimitLedger()
        case .postgres(let client, _): RateLimitLedgers.make(for: .postgres(client), logger: logger)
        }
    }

    /// The service that runs the PostgreSQL client (none on SQLite).
    var clientService: (any Service)? {
        if case .postgres(let client, _) = self { return client }
        return nil
    }

    /// What wakes `hub` and the visitors' `visitorLog` when another process logs an event or changes
    /// presence (none on SQLite, which one process serves).
    func liveListener(for hub: LiveHub, visitorLog: VisitorLog, logger: Logger) -> (any Service)? {
        if case .postgres(_, let settings) = self { return LiveHubListener(hub: hub, visitorLog: visitorLog, settings: settings, logger: logger) }
        return nil
    }

    /// Gives up the SQLite serving lock, once the bridge has stopped.
    func release() {
        if case .sqlite(_, let lock?) = self { lock.release() }
    }

    /// Runs `body` with the database open, and the PostgreSQL client running meanwhile (one-off
    /// commands such as `bridge agent add`).
    static func with<Result: Sendable>(
        _ config: BridgeConfig, logger: Logger, _ body: (ServedDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try await open(config, servingLock: false, logger: logger)
        guard case .postgres(let client, _) = database else { return try await body(database) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}
