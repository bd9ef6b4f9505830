import Foundation
import Synchronization
import UniversalInbox

/// The clock a search's deadline is measured on, driven by the test. `expensive`: every reading is
/// 10 s after the last, so a search is past a 5 s timeout at its second look. `stall`: the second
/// reading of a search tells `stalled` and then waits until the search's task is cancelled.
/// (In TestSupport, a library both InboxTests and ServerTests use: test targets share no sources.)
public final class SearchClock: Sendable {
    public enum Mode: Sendable { case normal, expensive, stall }

    private struct State {
        var mode = Mode.normal
        var readings = 0
        var offset = Duration.zero
    }

    private let state = Mutex(State())
    private let base = ContinuousClock.now
    public let stalled: AsyncStream<Void>
    private let stalledContinuation: AsyncStream<Void>.Continuation

    public init() {
        (stalled, stalledContinuation) = AsyncStream.makeStream()
    }

    /// Waits until a search stalled (at most 30 s).
    public func waitUntilStalled() async throws {
        let stalled = self.stalled
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in stalled { return true }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return false
            }
            let stalledInTime = try await group.next() ?? false
            group.cancelAll()
            if !stalledInTime { throw NotStalled() }
        }
    }

    public struct NotStalled: Error {}

    /// Readings since the last `set`.
    public var readings: Int { state.withLock { $0.readings } }

    public func set(_ mode: Mode) {
        state.withLock {
            $0.mode = mode
            $0.readings = 0
        }
    }

    public var limits: SearchLimits { SearchLimits(timeout: .seconds(5), now: { self.now() }) }

    public func now() -> ContinuousClock.Instant {
        let (mode, reading, offset) = state.withLock { state in
            state.readings += 1
            if state.mode == .expensive { state.offset += .seconds(10) }
            return (state.mode, state.readings, state.offset)
        }
        if mode == .stall, reading == 2 {
            stalledContinuation.yield()
            // Runs inside the search (SQLite's progress handler or the search loop), in its task.
            let giveUp = ContinuousClock.now + .seconds(60)
            while !Task.isCancelled, ContinuousClock.now < giveUp { usleep(1000) }
        }
        return base + offset
    }
}
