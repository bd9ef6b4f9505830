import PostgresNIO

/// Why the PostgreSQL store could not start or migrate. Each message names `database.url` and the
/// server (never the password), and says what to do.
public enum PostgresStoreError: Error, Equatable, CustomStringConvertible {
    /// No connection: nothing listens there, the login was refused, TLS failed, the database is missing.
    case cannotConnect(server: String, reason: String)
    /// The database was migrated by a newer bridge than this one.
    case schemaNewer(server: String, database: Int, binary: Int)
    /// The database's schema is older than this bridge's: `bridge migrate` first.
    case schemaOlder(server: String, database: Int, binary: Int)
    /// A migration's own statements failed, and it is not recorded; the ones before it stay. Its
    /// transaction was rolled back, or its concurrent index build left an invalid index that the
    /// next run drops.
    case migrationFailed(server: String, version: Int, name: String, reason: String)
    /// Migrating failed outside a migration's own statements (the connection dropped, a query on
    /// `schema_migrations`, a transaction's begin or commit failed); what was committed before stays,
    /// and the migration under way may or may not be (`bridge migrate` again finds out).
    case migrateFailed(server: String, reason: String)

    public var description: String {
        switch self {
        case .cannotConnect(let server, let reason):
            "database.url: cannot connect to PostgreSQL at \(server): \(reason)"
        case .schemaNewer(let server, let database, let binary):
            "database.url: the PostgreSQL schema at \(server) is at version \(database), newer than this bridge's \(binary); run a bridge at least as new as the one that migrated it (nothing was changed)"
        case .schemaOlder(let server, let database, let binary):
            "database.url: the PostgreSQL schema at \(server) is at version \(database), older than this bridge's \(binary); run `bridge migrate` first"
        case .migrationFailed(let server, let version, let name, let reason):
            "database.url: migration \(version) (\(name)) failed on PostgreSQL at \(server) and is not applied: \(reason)"
        case .migrateFailed(let server, let reason):
            "database.url: migrating PostgreSQL at \(server) failed: \(reason)"
        }
    }

    /// What went wrong, from postgres-nio's error (its `description` is deliberately generic): the
    /// server's message, else the network error. Neither holds the password.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return reason(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.code == .sslUnsupported { return "the server does not offer TLS, which sslmode=require demands" }
        if let info = error.serverInfo, let message = info[.message] {
            let code = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + code
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }
}
