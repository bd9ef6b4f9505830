import ChannelKit
import Logging
import PostgresNIO
import PostgresStore

/// Where the accounts' token buckets keep their balances, by the database the bridge serves, so an
/// account's rate limit holds for the whole cluster:
/// - SQLite: one process serves the database (the `ServingLock` proves it), so that process is the
///   cluster and the buckets live in its memory, as they always did (no table in the SQLite schema).
/// - PostgreSQL: every process on the database shares them in `rate_limit_buckets`.
///
/// `ServedDatabase.rateLimits` picks the ledger for the database `bridge serve` opened.
enum RateLimitLedgers {
    enum Store {
        case sqlite(ServingLock)
        case postgres(PostgresClient)
    }

    static func make(for store: Store, logger: Logger) -> any RateLimitLedger {
        switch store {
        case .sqlite: InProcessRateLimitLedger()
        case .postgres(let client): PostgresRateLimitLedger(client: client, logger: logger)
        }
    }
}
