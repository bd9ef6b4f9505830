import ChannelKit
import Crypto
import Foundation
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

    /// `ledger.takeAll` for a limit that refuses rather than queues (the logins', the widget's):
    /// nil when every token was taken, else the refusing bucket's index and the whole seconds to wait
    /// (at least 1). `APIError.limitsUnavailable` when the ledger cannot be reached: no request goes
    /// through unchecked.
    static func take(
        _ buckets: [(name: String, limit: RateLimit)], from ledger: any RateLimitLedger, at now: Date, refusals: RecentRefusals
    ) async throws -> (bucket: Int, retryAfter: Int)? {
        let refused: (bucket: Int, wait: Duration)?
        do {
            refused = try await ledger.takeAll(buckets, at: now, refusals: refusals)
        } catch {
            throw APIError.limitsUnavailable
        }
        return refused.map { ($0.bucket, retryAfter($0.wait)) }
    }

    /// A wait as `Retry-After` gives it: whole seconds, rounded up, at least 1.
    static func retryAfter(_ wait: Duration) -> Int { max(1, Int(wait.timeInterval.rounded(.up))) }

    /// The ledger's name for a limit on something a stranger names (a visitor, a client address, an
    /// e-mail address): `scope` and a SHA-256 digest of `key`, so the shared table does not show
    /// the addresses (an IPv4 address or a known e-mail can still be found by trying candidates) and
    /// no name grows past 60 characters.
    static func bucket(_ scope: String, _ key: String) -> String {
        "\(scope):" + SHA256.hash(data: Data(key.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

extension APIError {
    /// A limit kept in the shared ledger could not be checked (its database cannot be reached): the
    /// request is refused rather than let through unlimited.
    static let limitsUnavailable = APIError(
        status: .serviceUnavailable, code: "limits_unavailable", message: "the bridge cannot check its limits right now; try again shortly",
        headers: [.retryAfter: "5"])
}
