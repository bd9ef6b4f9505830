import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The loop every queue worker runs (outbox, follow-ups, alerts, webhook deliveries): lease due
/// jobs (`claim`, over a `LeaseQueue`), work on up to `maxInFlight` at once, each `perform`
/// reporting its own outcome (complete, reschedule or fail, presenting the job's lease), and sleep
/// until woken or the poll interval passes. On graceful shutdown it stops leasing and waits for
/// the jobs in flight to finish, so nothing is left half-done; a crash leaves leases that simply
/// run out. Work that is not a queue (feeds, rules, the indexer) runs on `WakeSignal.runUntilShutdown`.
struct WorkLoop<Job: Sendable>: Sendable {
    let name: String
    let maxInFlight: Int
    let pollInterval: Duration
    let signal: WakeSignal
    let logger: Logger
    let claim: @Sendable (_ limit: Int) async throws -> [Job]
    let perform: @Sendable (Job) async -> Void

    func run() async {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                let inFlight = InFlightCounter()
                while !stopping.isSet {
                    let free = maxInFlight - inFlight.value
                    var claimed = 0
                    if free > 0 {
                        do {
                            let jobs = try await claim(free)
                            claimed = jobs.count
                            for job in jobs {
                                inFlight.add(1)
                                group.addTask {
                                    await perform(job)
                                    inFlight.add(-1)
                                    signal.signal()
                                }
                            }
                        } catch where !Task.isCancelled {
                            logger.error("worker could not lease jobs", metadata: ["worker": "\(name)", "error": "\(error)"])
                        } catch {}
                    }
                    // A full batch means more may be due at once; otherwise sleep until poked.
                    if claimed == 0 || claimed < free { await signal.wait(timeout: pollInterval) }
                }
                // Leaving the group waits for every job in flight.
            }
        } onGracefulShutdown: {
            stopping.set()
            signal.signal()
        }
    }
}

/// When a service's loop is to end: on graceful shutdown (`set()`), or once its task is cancelled.
/// A service group cancels every service when one fails (the server cannot bind its port, say); a
/// loop that only watched for graceful shutdown then spun on `CancellationError`, logging it, and
/// the process never exited.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) || Task.isCancelled }
    func set() { flag.store(true, ordering: .releasing) }
}

final class InFlightCounter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add(_ n: Int) { count.add(n, ordering: .acquiringAndReleasing) }
}
