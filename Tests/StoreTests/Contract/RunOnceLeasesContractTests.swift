import Foundation
import Testing
import UniversalInbox

/// `seconds` after the contract tests' moment zero.
private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

/// `RunOnceLeases` as every implementation must keep it: one holder per duty at a time, a live
/// holder renews, a dead holder's lease runs out and another takes the duty, a released duty is
/// free at once. Times are given, never waited for.
@Suite struct RunOnceLeasesContractTests {
    @Test(arguments: StoreKind.available)
    func oneHolderAtATimeUntilItsLeaseRunsOut(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let leases = stores.runOnceLeases
            #expect(try await leases.take("distribution", holder: "a", until: at(10), now: at(0)))
            #expect(try await !leases.take("distribution", holder: "b", until: at(11), now: at(1)))
            // Another duty is free; the holder takes its own duty again (a renewal).
            #expect(try await leases.take("search-indexer", holder: "b", until: at(11), now: at(1)))
            #expect(try await leases.take("distribution", holder: "a", until: at(15), now: at(5)))
            #expect(try await !leases.take("distribution", holder: "b", until: at(20), now: at(10)))
            // A stops renewing (it died): at its lease's end B takes the duty, and A cannot come back.
            #expect(try await leases.take("distribution", holder: "b", until: at(25), now: at(15)))
            #expect(try await !leases.take("distribution", holder: "a", until: at(26), now: at(16)))
        }
    }

    @Test(arguments: StoreKind.available)
    func renewalKeepsOnlyWhatTheHolderStillHas(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let leases = stores.runOnceLeases
            #expect(try await leases.take("rules", holder: "a", until: at(10), now: at(0)))
            #expect(try await leases.take("janitor", holder: "a", until: at(10), now: at(0)))
            #expect(try await leases.renew(["rules", "janitor", "never-taken"], holder: "a", until: at(20)) == ["rules", "janitor"])
            // Renewed: B cannot take it at the old expiry.
            #expect(try await !leases.take("rules", holder: "b", until: at(30), now: at(15)))
            // A stalled past its lease; B took "janitor" meanwhile; A's renewal no longer covers it.
            #expect(try await leases.take("janitor", holder: "b", until: at(30), now: at(21)))
            #expect(try await leases.renew(["rules", "janitor"], holder: "a", until: at(31)) == ["rules"])
            #expect(try await leases.renew([], holder: "a", until: at(31)) == [])
        }
    }

    @Test(arguments: StoreKind.available)
    func releaseFreesTheHoldersDutiesAtOnce(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let leases = stores.runOnceLeases
            #expect(try await leases.take("campaigns", holder: "a", until: at(10), now: at(0)))
            #expect(try await leases.take("feed/webhooks", holder: "b", until: at(10), now: at(0)))
            try await leases.release(holder: "a")
            #expect(try await leases.take("campaigns", holder: "c", until: at(11), now: at(1)))
            // B's duty is still B's.
            #expect(try await !leases.take("feed/webhooks", holder: "c", until: at(11), now: at(1)))
        }
    }

    /// Many processes asking for a free duty at the same moment: exactly one gets it.
    @Test(arguments: StoreKind.available)
    func concurrentTakersGetOneHolder(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let leases = stores.runOnceLeases
            for round in 0..<5 {
                let duty = "duty-\(round)"
                let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for holder in 0..<8 {
                        group.addTask { try await leases.take(duty, holder: "p\(holder)", until: at(10), now: at(0)) }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(winners == 1, "\(duty)")
            }
        }
    }
}
