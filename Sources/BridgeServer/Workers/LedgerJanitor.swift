import ChannelKit
import Foundation
import Logging
import ServiceLifecycle

/// Forgets what the bridge's ledgers no longer need, a run-once duty: the token buckets that have
/// refilled to their burst (`RateLimitLedger.removeFull`), which a fresh bucket equals, and the
/// nonces whose signatures are stale (`NonceLedger.removeExpired`), which `verify` refuses anyway.
/// The widget's and the logins' buckets are named after visitors, client addresses and e-mail
/// addresses, and nonces after each signed call, so without it every one would stay (on PostgreSQL
/// in tables every process shares). Nothing any limit or replay check counts is lost: it forgets
/// only what was full or stale one `interval` ago, so a process whose clock runs ahead of the
/// others' by less than that does not forget a bucket early.
struct LedgerJanitor: Service {
    let rateLimits: any RateLimitLedger
    let nonces: any NonceLedger
    let interval: Duration
    let leaser: RunOnceLeaser
    let logger: Logger
    /// The time the limits reserve at and webhooks arrive at (the wall clock).
    var now: @Sendable () -> Date = { Date() }

    func run() async throws {
        await WakeSignal().runUntilShutdown("ledger-janitor", leaser: leaser, interval: interval) {
            do {
                let cutoff = now().addingTimeInterval(-interval.timeInterval)
                let buckets = try await rateLimits.removeFull(at: cutoff)
                let expired = try await nonces.removeExpired(at: cutoff)
                if buckets + expired > 0 {
                    logger.debug("forgot refilled rate-limit buckets and stale nonces", metadata: ["buckets": "\(buckets)", "nonces": "\(expired)"])
                }
            } catch {
                logger.error("could not forget refilled rate-limit buckets or stale nonces", metadata: ["error": "\(error)"])
            }
        }
    }
}
