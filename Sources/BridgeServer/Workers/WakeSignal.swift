import Logging
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// Wakes a worker loop early: `signal()` from anywhere ends the current `wait` (or the next one).
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on `signal()`, after `timeout`, or once the task is cancelled, whichever comes first.
    func wait(timeout: Duration) async {
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.signal()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.signal()
        }
        timer.cancel()
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
