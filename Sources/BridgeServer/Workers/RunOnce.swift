import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// This process's run-once leases (`RunOnceLeases`): which duties it holds, taking them when free
/// and renewing them every `renewEvery` while it lives, so that of several processes on one
/// database exactly one runs each duty, and another takes it over within `term` plus
/// `standbyRecheck` when the holder dies. A graceful stop releases them for the others at once.
///
/// It runs as a service started before the workers, so that it stops after them: a duty's step in
/// progress finishes while its lease is still renewed.
final class RunOnceLeaser: Service, Sendable {
    /// How long a lease lasts without renewal: how long a dead holder's duties wait.
    static let term: TimeInterval = 10
    static let renewEvery: Duration = .seconds(3)
    /// How often a process without a duty asks whether it is free.
    static let standbyRecheck: Duration = .seconds(2)

    enum Standing: Equatable { case held, taken, standby }

    let leases: any RunOnceLeases
    /// Names this process in the lease rows: host, pid and a random part (a pid is reused).
    let holder: String
    let clock: @Sendable () -> Date
    let logger: Logger
    /// Each held duty and when its lease runs out, as last written.
    private let held = Mutex<[String: Date]>([:])

    init(leases: any RunOnceLeases, clock: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.leases = leases
        self.clock = clock
        self.logger = logger
        holder = "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Whether this process may run `duty` now: `held` (and renewed lately), `taken` just now
    /// (the previous holder's work may be half done: see `runOnceUntilShutdown`'s `onTake`), or
    /// `standby` while another process holds it.
    func standing(_ duty: String) async -> Standing {
        let now = clock()
        // Held with more than half the term left: renewals keep it so, no query needed.
        if let until = held.withLock({ $0[duty] }), until.timeIntervalSince(now) > Self.term / 2 { return .held }
        let wasHeld = held.withLock { $0[duty] != nil }
        let until = now.addingTimeInterval(Self.term)
        do {
            guard try await leases.take(duty, holder: holder, until: until, now: now) else {
                if wasHeld { logger.warning("run-once duty taken by another process", metadata: ["duty": "\(duty)"]) }
                held.withLock { _ = $0.removeValue(forKey: duty) }
                return .standby
            }
        } catch {
            if !Task.isCancelled { logger.error("could not take a run-once duty", metadata: ["duty": "\(duty)", "error": "\(error)"]) }
            return .standby
        }
        held.withLock { $0[duty] = until }
        if wasHeld { return .held }
        logger.info("took a run-once duty", metadata: ["duty": "\(duty)", "holder": "\(holder)"])
        return .taken
    }

    /// Extends every held lease; a duty whose lease another process took is dropped.
    func renew() async {
        let duties = Set(held.withLock { $0.keys })
        guard !duties.isEmpty else { return }
        let until = clock().addingTimeInterval(Self.term)
        do {
            let kept = try await leases.renew(duties, holder: holder, until: until)
            held.withLock { held in
                for duty in duties { held[duty] = kept.contains(duty) ? until : nil }
            }
            let lost = duties.subtracting(kept)
            if !lost.isEmpty { logger.warning("run-once duties taken by another process", metadata: ["duties": "\(lost.sorted())"]) }
        } catch {
            // A graceful stop cancels a renewal in flight: not a failure (the leases are released next).
            guard !Task.isCancelled else { return }
            // The leases keep their last expiry: `standing` asks the database again once half is gone.
            logger.error("could not renew run-once duties", metadata: ["error": "\(error)"])
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.renewEvery)
                await self.renew()
            }
        }
        held.withLock { $0.removeAll() }
        do {
            try await leases.release(holder: holder)
        } catch {
            logger.error("could not release run-once duties", metadata: ["error": "\(error)"])
        }
    }
}
