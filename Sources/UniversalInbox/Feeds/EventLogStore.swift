import Foundation

/// The ordered event log as its readers see it: the live feed, the web page catching up, the
/// log's janitor. (Appending is the database's own work: triggers in the writing transaction.)
/// One implementation per database: `SQLiteEventLogStore` (EventLogStore+SQLite.swift) and
/// `PostgresEventLogStore` in PostgresStore, held to one contract (Tests/StoreTests).
public protocol EventLogStore: Sendable {
    /// The newest `seq` (0 for an empty log; pruning never lowers it).
    func head() async throws -> Int64

    /// Up to `limit` entries after `after`, oldest first, each with its ticket's assignee and
    /// department now (for access checks), read in one snapshot with the head and the pruning mark.
    func slice(after: Int64, limit: Int) async throws -> EventLogSlice

    /// Deletes all but the newest `keep` entries; returns how many went.
    func prune(keep: Int) async throws -> Int
}

/// Part of the log, as one snapshot.
public struct EventLogSlice: Sendable {
    public struct Entry: Sendable, Equatable {
        public var event: LoggedEvent
        /// Where the ticket is now: who may read this entry.
        public var place: TicketPlace

        public init(event: LoggedEvent, place: TicketPlace) {
            self.event = event
            self.place = place
        }
    }

    public var entries: [Entry]
    public var head: Int64
    /// Entries up to this `seq` were deleted: a reader behind it must reload instead of catching up.
    public var prunedThrough: Int64

    public init(entries: [Entry], head: Int64, prunedThrough: Int64) {
        self.entries = entries
        self.head = head
        self.prunedThrough = prunedThrough
    }
}

extension LoggedEvent {
    /// An entry as stored: `type` and the type-specific fields in `data` (JSON, as the triggers
    /// write it on either database). Nil for a type this binary does not know (a newer writer's):
    /// readers skip it rather than guess.
    public init?(seq: Int64, type: String, ticketId: Int64, data: String?) {
        guard let kind = Kind(rawValue: type) else { return nil }
        let fields = data.flatMap { try? JSONDecoder().decode(StoredFields.self, from: Data($0.utf8)) } ?? StoredFields()
        self.init(
            seq: seq, type: kind, ticketId: ticketId, messageId: fields.messageId, noteId: fields.noteId, historyId: fields.historyId,
            direction: fields.direction, status: fields.status, agentId: fields.agentId, kind: fields.kind,
            before: fields.moved == 1 ? TicketPlace(agentId: fields.fromAgentId, departmentId: fields.fromDepartmentId) : nil)
    }

    /// The type-specific fields, as the triggers write them.
    private struct StoredFields: Decodable {
        var messageId: Int64?
        var noteId: Int64?
        var historyId: Int64?
        var direction: String?
        var status: String?
        var agentId: Int64?
        var kind: String?
        var moved: Int?
        var fromAgentId: Int64?
        var fromDepartmentId: Int64?
    }
}
