import ChannelKit
import Foundation
import Logging
import ServiceLifecycle

/// Forgets the token buckets that have refilled to their burst (`RateLimitLedger.removeFull`), a
/// run-once duty: the widget's and the logins' buckets are named after visitors, client addresses
/// and e-mail addresses, so without it every name ever limited would stay in the ledger (on
/// PostgreSQL a table every process shares). A full bucket is the same as none, so nothing any
/// limit counts is lost.
struct RateLimitJanitor: Service {
    let ledger: any RateLimitLedger
    let interval: Duration
    let leaser: RunOnceLeaser
    let logger: Logger
    /// The time the limits reserve at (`WidgetThrottle`, `LoginThrottle`: the wall clock).
    var now: @Sendable () -> Date = { Date() }

    func run() async throws {
        await WakeSignal().runUntilShutdown("rate-limit-buckets", leaser: leaser, interval: interval) {
            do {
                let removed = try await ledger.removeFull(at: now())
                if removed > 0 { logger.debug("forgot the rate-limit buckets that refilled", metadata: ["buckets": "\(removed)"]) }
            } catch {
                logger.error("could not forget the refilled rate-limit buckets", metadata: ["error": "\(error)"])
            }
        }
    }
}
