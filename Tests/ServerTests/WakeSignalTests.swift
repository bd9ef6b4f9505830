@testable import BridgeServer
import Testing

/// `WakeSignal`: a wait ends on a signal or at its timeout, and waits that signals end share one
/// timer task instead of starting one each.
@Suite(.timeLimit(.minutes(1)))
struct WakeSignalTests {
    /// A task waiting up to an hour on `signal`, returned once its wait is in progress.
    static func hourLongWait(on signal: WakeSignal) async -> Task<Void, Never> {
        let waiting = Task { await signal.wait(timeout: .seconds(3600)) }
        while signal.isWaiting == false { await Task.yield() }
        return waiting
    }

    @Test func aSignalEndsTheWaitAndOneGivenBeforeEndsTheNext() async {
        let signal = WakeSignal()
        signal.signal()
        await signal.wait(timeout: .seconds(3600))
        let waiting = await Self.hourLongWait(on: signal)
        signal.signal()
        await waiting.value
    }

    @Test func aWaitEndsAtItsTimeoutWithoutASignal() async {
        let signal = WakeSignal()
        let start = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(20))
        #expect(ContinuousClock.now - start >= .milliseconds(20))
    }

    @Test func waitsEndedBySignalsShareOneTimer() async {
        let signal = WakeSignal()
        for _ in 0..<200 {
            let waiting = await Self.hourLongWait(on: signal)
            signal.signal()
            await waiting.value
        }
        #expect(signal.timersStarted == 1)
    }

    @Test func aShorterTimeoutThanTheTimersSleepStillEndsOnTime() async {
        let signal = WakeSignal()
        let long = await Self.hourLongWait(on: signal)
        signal.signal()
        await long.value
        // The first timer sleeps for an hour; this wait must not wait for it.
        await signal.wait(timeout: .milliseconds(20))
        #expect(signal.timersStarted == 2)
    }

    @Test func aWaitWithNoTimeLeftReturnsWithoutATimer() async {
        let signal = WakeSignal()
        await signal.wait(timeout: .zero)
        #expect(signal.timersStarted == 0)
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let signal = WakeSignal()
        let waiting = await Self.hourLongWait(on: signal)
        waiting.cancel()
        await waiting.value
    }
}
