import ChannelKit
import Foundation
import Synchronization
import Testing

/// `RateLimitLedger.takeAll`, for limits that refuse rather than queue: one token from each bucket
/// or none, each token taken given back once, and with `RecentRefusals` a refused bucket refuses
/// again in this process until its wait ends, without asking the ledger.
@Suite struct TakeAllTests {
    private let limit = RateLimit(perSecond: 1, burst: 1)
    private let moment = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aLaterRefusalGivesBackWhatWasTaken() async throws {
        let ledger: any RateLimitLedger = InProcessRateLimitLedger()
        _ = try await ledger.reserve("b", limit: limit, at: moment)
        let refused = try await ledger.takeAll([("a", limit), ("b", limit)], at: moment)
        #expect(refused?.bucket == 1)
        #expect(refused?.wait == .seconds(1))
        // "a" was given back: one token, then none.
        #expect(try await ledger.reserve("a", limit: limit, at: moment) == .zero)
        #expect(try await ledger.reserve("a", limit: limit, at: moment) == .seconds(1))
    }

    /// A ledger failing half-way is asked to refund each token taken once, and the error goes on.
    @Test func aFailureRefundsEachTokenOnce() async {
        let ledger = ScriptedLedger(refusing: ["c"], failing: ["refund a"])
        await #expect(throws: ScriptedLedger.Down.self) {
            _ = try await ledger.takeAll([("a", limit), ("b", limit), ("c", limit)], at: moment)
        }
        #expect(ledger.calls == ["reserve a", "reserve b", "reserve c", "refund a", "refund b", "refund c"])
    }

    @Test func aRefusalIsRememberedUntilItsWaitEnds() async throws {
        let ledger = ScriptedLedger(refusing: ["b"], failing: [])
        let refusals = RecentRefusals()
        #expect(try await ledger.takeAll([("a", limit), ("b", limit)], at: moment, refusals: refusals)?.bucket == 1)
        let asked = ledger.calls.count
        // Half a second later: refused again from memory, with the wait left, and the ledger not asked.
        let again = try await ledger.takeAll([("a", limit), ("b", limit)], at: moment.addingTimeInterval(0.5), refusals: refusals)
        #expect(again?.bucket == 1)
        #expect(again?.wait == .milliseconds(500))
        #expect(ledger.calls.count == asked)
        // Once the wait is over the ledger decides again; a bucket given back here is asked at once.
        _ = try await ledger.takeAll([("a", limit), ("b", limit)], at: moment.addingTimeInterval(1), refusals: refusals)
        #expect(ledger.calls.count > asked)
        refusals.forget("b")
        let before = ledger.calls.count
        _ = try await ledger.takeAll([("b", limit)], at: moment.addingTimeInterval(1.1), refusals: refusals)
        #expect(ledger.calls.count > before)
    }
}

/// Refuses (a one-second wait) the buckets named in `refusing`, throws on the calls named in
/// `failing` ("refund a"), and records every call.
private final class ScriptedLedger: RateLimitLedger {
    struct Down: Error {}
    let refusing: Set<String>
    let failing: Set<String>
    private let log = Mutex<[String]>([])
    var calls: [String] { log.withLock { $0 } }

    init(refusing: Set<String>, failing: Set<String>) {
        self.refusing = refusing
        self.failing = failing
    }

    private func call(_ text: String) throws {
        log.withLock { $0.append(text) }
        if failing.contains(text) { throw Down() }
    }

    func reserve(_ name: String, limit: RateLimit, at now: Date) async throws -> Duration {
        try call("reserve \(name)")
        return refusing.contains(name) ? .seconds(1) : .zero
    }

    func refund(_ name: String, limit: RateLimit) async throws { try call("refund \(name)") }
    func remove(_ name: String) async throws { try call("remove \(name)") }
    func removeFull(at now: Date) async throws -> Int { 0 }
}
