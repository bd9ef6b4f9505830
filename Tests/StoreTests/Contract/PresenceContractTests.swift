import Foundation
import Testing
import UniversalInbox

/// `seconds` after the contract tests' moment zero.
private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

/// `PresenceStore` as every implementation must keep it: entries per connection and ticket, read
/// by ticket until they expire; every change that alters how a ticket's presence reads (removals
/// and expiries included) is seen by a follower asking what changed after its version, and a
/// refresh is no change. Times are given, never waited for.
@Suite struct PresenceContractTests {
    static let ann = UUID(uuidString: "00000000-0000-0000-0000-00000000000A")!
    static let bob = UUID(uuidString: "00000000-0000-0000-0000-00000000000B")!
    static let cy = UUID(uuidString: "00000000-0000-0000-0000-00000000000C")!

    static func entry(
        _ connection: UUID, _ name: String, ticket: Int64, _ state: PresenceEntry.State = .viewing, until: TimeInterval = 75,
        process: String = "p1"
    ) -> PresenceEntry {
        PresenceEntry(
            connectionId: connection, processId: process, agentId: name == "admin" ? nil : Int64(name.count), agentName: name, ticketId: ticket,
            state: state, expiresAt: at(until))
    }

    static func names(_ entries: [PresenceEntry]) -> [String] { entries.map { "\($0.agentName) \($0.state.rawValue)" } }

    @Test(arguments: StoreKind.available)
    func entriesAreSetReadByTicketAndRemoved(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = stores.presence
            try await store.set(Self.entry(Self.bob, "Bob", ticket: 1))
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 1, .typing))
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 2))
            try await store.set(Self.entry(Self.cy, "admin", ticket: 2, process: "p2"))
            #expect(try await store.presence(ticketId: 1, now: at(0)) == [Self.entry(Self.ann, "Ann", ticket: 1, .typing), Self.entry(Self.bob, "Bob", ticket: 1)])
            #expect(try await Self.names(store.presence(ticketId: 2, now: at(0))) == ["Ann viewing", "admin viewing"])
            #expect(try await store.presence(ticketId: 3, now: at(0)).isEmpty)

            // Replaced whole (a new state, a refresh); removed from one ticket, then from all.
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 1, .viewing, until: 80))
            #expect(try await store.presence(ticketId: 1, now: at(0)).first == Self.entry(Self.ann, "Ann", ticket: 1, .viewing, until: 80))
            try await store.remove(connectionId: Self.ann, ticketId: 2)
            #expect(try await Self.names(store.presence(ticketId: 2, now: at(0))) == ["admin viewing"])
            #expect(try await Self.names(store.presence(ticketId: 1, now: at(0))) == ["Ann viewing", "Bob viewing"])
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 2))
            try await store.remove(connectionId: Self.ann, ticketId: nil)
            #expect(try await Self.names(store.presence(ticketId: 1, now: at(0))) == ["Bob viewing"])
            #expect(try await Self.names(store.presence(ticketId: 2, now: at(0))) == ["admin viewing"])
            try await store.remove(connectionId: Self.ann, ticketId: nil)  // nothing left: fine
        }
    }

    @Test(arguments: StoreKind.available)
    func everyChangeIsSeenAfterItsVersionAndARefreshIsNone(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = stores.presence
            let start = try await store.changes(after: nil)
            #expect(start.ticketIds.isEmpty && !start.resync)
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 1))
            try await store.set(Self.entry(Self.bob, "Bob", ticket: 2))
            let first = try await store.changes(after: start.version)
            #expect(first.ticketIds == [1, 2] && !first.resync)
            #expect(first.version > start.version)
            #expect(try await store.changes(after: nil) == PresenceChanges(version: first.version, ticketIds: [], resync: false))

            // A refresh (only the expiry moves) and removing what is not there change nothing.
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 1, until: 150))
            try await store.remove(connectionId: Self.cy, ticketId: nil)
            #expect(try await store.changes(after: first.version) == PresenceChanges(version: first.version, ticketIds: [], resync: false))

            // A new state, a removal: each seen once after the version before it.
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 1, .typing))
            let typing = try await store.changes(after: first.version)
            #expect(typing.ticketIds == [1])
            try await store.remove(connectionId: Self.bob, ticketId: 2)
            let removal = try await store.changes(after: typing.version)
            #expect(removal.ticketIds == [2])
            #expect(try await store.changes(after: first.version).ticketIds == [1, 2])
            #expect(try await store.changes(after: removal.version).ticketIds.isEmpty)
        }
    }

    /// A process that died leaves entries nobody refreshes: they stop being read at their expiry,
    /// and `expire` (run by any other process) removes them as a change; a live process's own
    /// entries are spared (it removes them itself, on its own clock).
    @Test(arguments: StoreKind.available)
    func expiredEntriesAreNotReadAndExpireAsAChange(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = stores.presence
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 1, until: 10, process: "dead"))
            try await store.set(Self.entry(Self.bob, "Bob", ticket: 2, until: 10, process: "p2"))
            try await store.set(Self.entry(Self.cy, "Cy", ticket: 3, until: 100, process: "dead"))
            #expect(try await Self.names(store.presence(ticketId: 1, now: at(10))) == ["Ann viewing"])
            #expect(try await store.presence(ticketId: 1, now: at(11)).isEmpty)
            let before = try await store.changes(after: nil)

            try await store.expire(now: at(10), sparing: "p2")
            #expect(try await store.changes(after: before.version).ticketIds.isEmpty)
            try await store.expire(now: at(11), sparing: "p2")
            let expired = try await store.changes(after: before.version)
            #expect(expired.ticketIds == [1])
            #expect(try await store.presence(ticketId: 1, now: at(0)).isEmpty)
            #expect(try await Self.names(store.presence(ticketId: 2, now: at(0))) == ["Bob viewing"])
            #expect(try await Self.names(store.presence(ticketId: 3, now: at(11))) == ["Cy viewing"])
        }
    }

    /// A follower further behind than the change records kept is told to re-read everything, with
    /// the tickets that have presence now.
    @Test(arguments: StoreKind.available)
    func aFollowerTooFarBehindIsToldToResync(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = stores.presence
            let start = try await store.changes(after: nil)
            try await store.set(Self.entry(Self.bob, "Bob", ticket: 2))
            try await store.set(Self.entry(Self.ann, "Ann", ticket: 9))
            try await store.remove(connectionId: Self.ann, ticketId: nil)
            let recent = try await store.changes(after: nil)
            for round in 0..<(PresenceChanges.retained + 1) {
                try await store.set(Self.entry(Self.cy, "Cy", ticket: 1, round.isMultiple(of: 2) ? .typing : .viewing))
            }
            try await store.expire(now: at(0), sparing: "p1")
            let behind = try await store.changes(after: start.version)
            #expect(behind.resync)
            #expect(behind.ticketIds == [1, 2])
            // Up to date followers are not affected.
            let current = try await store.changes(after: nil)
            #expect(try await store.changes(after: current.version) == PresenceChanges(version: current.version, ticketIds: [], resync: false))
            // One that had seen every forgotten record still gets only what changed since.
            #expect(try await store.changes(after: recent.version) == PresenceChanges(version: current.version, ticketIds: [1], resync: false))
        }
    }

    /// Two bridge processes on one PostgreSQL: what one sets the other reads, and the other notices
    /// the first's removal and, once it expires, an entry the first left behind.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aSecondProcessSeesPresenceAndItsChanges() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            let (one, two) = (processes[0].presence, processes[1].presence)
            let start = try await two.changes(after: nil)
            try await one.set(Self.entry(Self.ann, "Ann", ticket: 1, .typing, until: 10, process: "one"))
            try await one.set(Self.entry(Self.bob, "Bob", ticket: 2, until: 10, process: "one"))
            let set = try await two.changes(after: start.version)
            #expect(set.ticketIds == [1, 2])
            #expect(try await two.presence(ticketId: 1, now: at(0)) == [Self.entry(Self.ann, "Ann", ticket: 1, .typing, until: 10, process: "one")])

            try await one.remove(connectionId: Self.bob, ticketId: 2)
            let removal = try await two.changes(after: set.version)
            #expect(removal.ticketIds == [2])
            #expect(try await two.presence(ticketId: 2, now: at(0)).isEmpty)

            // Process one dies: two clears Ann's entry when it expires, and sees it as a change.
            try await two.expire(now: at(11), sparing: "two")
            let expiry = try await two.changes(after: removal.version)
            #expect(expiry.ticketIds == [1])
            #expect(try await one.presence(ticketId: 1, now: at(0)).isEmpty)
        }
    }
}
