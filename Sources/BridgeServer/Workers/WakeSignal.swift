import Logging
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// Wakes a worker loop early: `signal()` from anywhere ends the current `wait` (or the next one).
///
/// A wait's timeout is kept by one timer task per signal, which outlives the waits a signal ends
/// and sleeps on to the deadline of whichever wait comes next. A task per wait cost a task, a
/// timer and its cancellation each time: the live hub's log pump is signalled by every ingest
/// group and waited again at once, hundreds of times a second under load.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        /// The wait in progress and when its timeout ends it.
        var waiter: (continuation: CheckedContinuation<Void, Never>, deadline: ContinuousClock.Instant)?
        /// The running timer task (nil: none) and when it next wakes up.
        var timer: (id: Int, wakesAt: ContinuousClock.Instant)?
        var timersStarted = 0
    }

    private let state = Mutex(State())

    /// How many timer tasks waits have started (one per wait that outlived the last one's sleep).
    var timersStarted: Int { state.withLock { $0.timersStarted } }

    /// Whether a wait is in progress.
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns on `signal()`, after `timeout`, or once the task is cancelled, whichever comes first.
    func wait(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (resumeNow, startTimer): (Bool, Int?) = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return (true, nil)
                    }
                    if deadline <= .now { return (true, nil) }
                    state.waiter = (continuation, deadline)
                    // The running timer serves this wait unless it sleeps past its deadline; a timer
                    // replaced here finds it is no longer the one when it wakes, and ends.
                    if let timer = state.timer, timer.wakesAt <= deadline { return (false, nil) }
                    state.timersStarted += 1
                    state.timer = (state.timersStarted, deadline)
                    return (false, state.timersStarted)
                }
                if resumeNow { continuation.resume() }
                // Detached: the timer outlives this wait, so it takes none of its task's priority or locals.
                if let startTimer { Task.detached { await self.runTimer(startTimer, firstWake: deadline) } }
            }
        } onCancel: {
            self.signal()
        }
    }

    /// Sleeps to `firstWake`, then ends each wait whose deadline has passed and sleeps on to the next
    /// one's, while there is a wait. It sleeps first, so a wait signalled before it ran still finds it.
    private func runTimer(_ id: Int, firstWake: ContinuousClock.Instant) async {
        enum Step { case resume(CheckedContinuation<Void, Never>), sleep(until: ContinuousClock.Instant), end }
        var wake = firstWake
        while true {
            if wake > .now { try? await Task.sleep(until: wake, clock: .continuous) }
            let step: Step = state.withLock { state in
                guard state.timer?.id == id else { return .end }
                guard let waiter = state.waiter else {
                    state.timer = nil
                    return .end
                }
                guard waiter.deadline <= .now else {
                    state.timer = (id, waiter.deadline)
                    return .sleep(until: waiter.deadline)
                }
                state.waiter = nil
                return .resume(waiter.continuation)
            }
            switch step {
            case .resume(let waiter): waiter.resume()
            case .sleep(let deadline): wake = deadline
            case .end: return
            }
        }
    }
}

extension WakeSignal {
    /// Signals whenever the inbox publishes an event `matches` accepts, until the answer is cancelled or released.
    func follow(_ bus: InboxEventBus, when matches: @escaping @Sendable (InboxEvent) -> Bool) -> InboxEventBus.Listening {
        bus.listen { events in if events.contains(where: matches) { self.signal() } }
    }

    /// Runs a feed (store events → work rows) like `runUntilShutdown`, at most every 100 ms however
    /// often it is signalled; a failing run is logged as "`name` feed failed" and the next one tries
    /// again. A feed reads the log from one cursor, so one process runs it: duty `feed/<name>`.
    func runFeed(interval: Duration, name: String, leaser: RunOnceLeaser, logger: Logger, _ feed: @Sendable () async throws -> Void) async {
        await runUntilShutdown("feed/\(name)", leaser: leaser, interval: interval) {
            do {
                try await feed()
            } catch {
                logger.error("feed failed", metadata: ["feed": "\(name)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Runs `step` now and then whenever signalled (or after `interval`), until graceful shutdown
    /// (a step in progress finishes first), in the one process of several that holds `duty`
    /// (`RunOnceLeaser`); a process without it asks again every `standbyRecheck`. `onTake` runs
    /// first whenever this process takes the duty, e.g. to settle what a dead holder left half done.
    func runUntilShutdown(
        _ duty: String, leaser: RunOnceLeaser, interval: Duration, onTake: (@Sendable () async -> Void)? = nil, _ step: @Sendable () async -> Void
    ) async {
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                switch await leaser.standing(duty) {
                case .standby:
                    // The whole recheck interval, however often signalled: the holder does the work
                    // a signal asks for, and asking the database at each one cost every standby
                    // process a query per duty per ingest group (CPU per event rose with processes).
                    let recheck = ContinuousClock.now + RunOnceLeaser.standbyRecheck
                    while !stop.isSet, ContinuousClock.now < recheck { await wait(timeout: ContinuousClock.now.duration(to: recheck)) }
                    continue
                case .taken:
                    await onTake?()
                case .held:
                    break
                }
                await step()
                await wait(timeout: interval)
            }
        } onGracefulShutdown: {
            stop.set()
            self.signal()
        }
    }
}
