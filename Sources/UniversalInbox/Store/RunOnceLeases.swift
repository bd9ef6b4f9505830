import Foundation

/// Who runs the work that must run in one process at a time when several bridge processes share a
/// database: distribution, the search indexer, auto-close, time-based rules, scheduled campaigns,
/// the feeds that turn the event log into webhook deliveries and alerts. Each such *duty* has one
/// row holding its current holder and when that holder's lease runs out; a live holder renews it
/// well before then, and when a holder dies its lease runs out and another process takes the duty.
///
/// The store's first protocol with one implementation per database (`SQLiteRunOnceLeases` here,
/// `PostgresRunOnceLeases` in PostgresStore), both held to one contract suite (Tests/StoreTests).
/// Times are passed in, so the contract is tested with a clock the test moves.
public protocol RunOnceLeases: Sendable {
    /// Takes `duty` for `holder` until `until`, or renews it when `holder` has it already. True when
    /// `holder` holds it now; false when another holder's lease has not run out at `now`.
    func take(_ duty: String, holder: String, until: Date, now: Date) async throws -> Bool

    /// Extends every lease `holder` still has among `duties` to `until`; answers the duties renewed
    /// (one missing from the answer was taken by another process after its lease ran out).
    func renew(_ duties: Set<String>, holder: String, until: Date) async throws -> Set<String>

    /// Gives up `holder`'s leases (a graceful stop), so another process takes the duties at once.
    func release(holder: String) async throws
}
