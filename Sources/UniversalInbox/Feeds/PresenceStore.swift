import Foundation

/// One live connection's presence on one ticket: who is viewing or typing there (collision
/// detection in the web inbox). Written by the process holding the connection, read by every
/// process whose agents may read the ticket.
public struct PresenceEntry: Sendable, Hashable {
    public enum State: String, Sendable, Codable { case viewing, typing }

    public var connectionId: UUID
    /// The bridge process holding the connection (each process names itself once per run).
    public var processId: String
    public var agentId: Int64?
    public var agentName: String
    public var ticketId: Int64
    public var state: State
    /// When the entry lapses if its process does not refresh or remove it (a process that died).
    public var expiresAt: Date

    public init(
        connectionId: UUID, processId: String, agentId: Int64?, agentName: String, ticketId: Int64, state: State, expiresAt: Date
    ) {
        self.connectionId = connectionId
        self.processId = processId
        self.agentId = agentId
        self.agentName = agentName
        self.ticketId = ticketId
        self.state = state
        self.expiresAt = expiresAt
    }
}

/// The tickets whose presence changed after a version, and the version the answer stands at.
public struct PresenceChanges: Sendable, Equatable {
    /// Ask with this next time.
    public var version: Int64
    public var ticketIds: [Int64]
    /// The asked version was older than the change records kept: `ticketIds` are the tickets with
    /// presence now, and the asker must also re-read every ticket it shows presence for.
    public var resync: Bool

    public init(version: Int64, ticketIds: [Int64], resync: Bool) {
        self.version = version
        self.ticketIds = ticketIds
        self.resync = resync
    }

    /// How many of the newest versions' change records a store keeps; older ones are forgotten
    /// (by `expire`), and a reader further behind gets `resync`.
    public static let retained: Int64 = 1_000
}

/// Where the live hubs keep presence, so an agent on one bridge process sees a colleague viewing
/// or typing on another. Every change that alters what a ticket's presence reads (an entry added
/// or removed, its state or name changed) takes the next version and records its ticket, so a hub
/// elsewhere asks "what changed after V" and re-reads only those tickets; a refresh that only moves
/// `expiresAt` is no change. Deletions are changes like any other (the ticket's record keeps the
/// version), so a removal or an expiry is noticed.
///
/// - `InMemoryPresenceStore` (here): a bridge on SQLite. One process serves a SQLite database, so
///   presence lives in its memory as it always did.
/// - `PostgresPresenceStore` (PostgresStore): a table shared by every process, a version counter
///   row, and a notification on `bridge_presence` after each change that wakes the other hubs.
///
/// Times are passed in (the hub's clock), never read inside, so the contract is tested with a
/// clock the test moves.
public protocol PresenceStore: Sendable {
    /// Adds the connection's presence on the entry's ticket, or replaces it (a new state, a refresh).
    func set(_ entry: PresenceEntry) async throws

    /// Removes the connection's presence on `ticketId`, or on every ticket when it is nil.
    func remove(connectionId: UUID, ticketId: Int64?) async throws

    /// The ticket's entries from every process that have not expired at `now`, by name.
    func presence(ticketId: Int64, now: Date) async throws -> [PresenceEntry]

    /// Removes the entries that expired before `now` except `processId`'s own (a live process
    /// removes its own on time; this clears what a dead process left), as changes, and forgets
    /// change records older than the `PresenceChanges.retained` newest versions.
    func expire(now: Date, sparing processId: String) async throws

    /// The tickets whose presence changed after `version`; nil answers only the current version
    /// (where a new follower starts).
    func changes(after version: Int64?) async throws -> PresenceChanges
}

extension Array where Element == PresenceEntry {
    /// The order `presence(ticketId:now:)` answers in.
    public func byName() -> [PresenceEntry] {
        sorted { ($0.agentName, $0.state.rawValue, $0.connectionId.uuidString) < ($1.agentName, $1.state.rawValue, $1.connectionId.uuidString) }
    }
}

/// Presence in this process's memory: a bridge on SQLite, where one process serves the database.
public actor InMemoryPresenceStore: PresenceStore {
    private struct Key: Hashable {
        var connectionId: UUID
        var ticketId: Int64
    }

    private var entries: [Key: PresenceEntry] = [:]
    /// The version of each ticket's last change.
    private var changed: [Int64: Int64] = [:]
    private var version: Int64 = 0
    private var prunedThrough: Int64 = 0

    public init() {}

    public func set(_ entry: PresenceEntry) {
        let key = Key(connectionId: entry.connectionId, ticketId: entry.ticketId)
        let before = entries.updateValue(entry, forKey: key)
        if before?.state != entry.state || before?.agentName != entry.agentName { record([entry.ticketId]) }
    }

    public func remove(connectionId: UUID, ticketId: Int64?) {
        let keys = entries.keys.filter { $0.connectionId == connectionId && (ticketId == nil || $0.ticketId == ticketId) }
        for key in keys { entries.removeValue(forKey: key) }
        record(keys.map(\.ticketId))
    }

    public func presence(ticketId: Int64, now: Date) -> [PresenceEntry] {
        entries.values.filter { $0.ticketId == ticketId && $0.expiresAt >= now }.byName()
    }

    public func expire(now: Date, sparing processId: String) {
        let expired = entries.filter { $0.value.expiresAt < now && $0.value.processId != processId }.map(\.key)
        for key in expired { entries.removeValue(forKey: key) }
        record(expired.map(\.ticketId))
        let horizon = version - PresenceChanges.retained
        for (ticketId, at) in changed where at <= horizon {
            changed.removeValue(forKey: ticketId)
            prunedThrough = max(prunedThrough, at)
        }
    }

    public func changes(after version: Int64?) -> PresenceChanges {
        guard let version else { return PresenceChanges(version: self.version, ticketIds: [], resync: false) }
        if version < prunedThrough {
            return PresenceChanges(version: self.version, ticketIds: Set(entries.keys.map(\.ticketId)).sorted(), resync: true)
        }
        return PresenceChanges(version: self.version, ticketIds: changed.filter { $0.value > version }.keys.sorted(), resync: false)
    }

    /// One new version for a change touching `ticketIds`.
    private func record(_ ticketIds: [Int64]) {
        guard !ticketIds.isEmpty else { return }
        version += 1
        for ticketId in ticketIds { changed[ticketId] = version }
    }
}
