import Foundation
import GRDB

/// One change in the ordered event log: what happened to which ticket, at sequence number `seq`.
///
/// The log is written by the database itself (triggers, `Schema.eventLog`) in the transaction that
/// makes the change, so no write path can forget it and a committed change always has its entry.
/// SQLite has one writer at a time, so entries commit in `seq` order and a reader that has seen
/// `seq` N has seen everything before it. Everything that follows the inbox (the live feed, the
/// web page, outgoing webhooks, alerts) reads the log by `seq`; the in-process `InboxEventBus`
/// only wakes them.
public struct LoggedEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A ticket was opened (by a customer's message, an outreach or a split).
        case ticketOpened = "ticket_opened"
        /// A message was added (`direction` in or out; notes are `note`).
        case message
        /// A message's delivery state changed (`status`: queued, sent, delivered, read, failed).
        case messageStatus = "message_status"
        /// The ticket's status changed (`status`).
        case status
        /// The ticket was assigned (`agentId`) or unassigned (no `agentId`).
        case assigned
        /// The ticket's priority, department, tags or merge target changed, or what shows of its
        /// contact (name, identities, tags, custom fields, e-mail: v23, v24).
        case ticketUpdated = "ticket_updated"
        /// An internal note was added (`noteId`).
        case note
        /// A history entry was written (`historyId`, `kind`: assigned, transferred, merged, ...).
        case history
    }

    public var seq: Int64
    public var type: Kind
    public var ticketId: Int64
    public var messageId: Int64?
    public var noteId: Int64?
    public var historyId: Int64?
    public var direction: String?
    public var status: String?
    public var agentId: Int64?
    /// A history entry's kind.
    public var kind: String?
    /// Where the ticket was before an `assigned` or `ticket_updated` change (not sent to clients):
    /// a restricted reader who could see it there, and cannot now, is told it is gone.
    public var before: TicketPlace?

    private enum CodingKeys: String, CodingKey {
        case seq, type, ticketId, messageId, noteId, historyId, direction, status, agentId, kind
    }
}

/// A ticket's assignee and department: what decides who may read it.
public struct TicketPlace: Sendable, Equatable {
    public var agentId: Int64?
    public var departmentId: Int64?

    public init(agentId: Int64?, departmentId: Int64?) {
        self.agentId = agentId
        self.departmentId = departmentId
    }
}

/// A page of the log and where it stands.
public struct EventLogPage: Sendable, Codable {
    /// The events after the asked position that the caller may read, oldest first.
    public var events: [LoggedEvent]
    /// The position to ask from next: the last event read (readable or not), or the asked position.
    public var next: Int64
    /// The newest `seq` in the log when it was read.
    public var head: Int64
    /// True when events after the asked position were already pruned (or the position is ahead of
    /// the log): the caller must reload what it shows instead of catching up.
    public var resync: Bool
}

extension Inbox {
    /// The newest `seq` (0 for an empty log).
    public func eventLogHead() async throws -> Int64 {
        try await stores.eventLog.head()
    }

    /// Up to `limit` events after `after`, as `actor` may read them (by the tickets' assignment and
    /// department now). Reading a page is one snapshot: `head` and the events agree.
    public func events(after: Int64, limit: Int, for actor: Caller) async throws -> EventLogPage {
        let slice = try await stores.eventLog.slice(after: after, limit: limit)
        guard after >= slice.prunedThrough, after <= slice.head else { return EventLogPage(events: [], next: slice.head, head: slice.head, resync: true) }
        let readable = slice.entries.filter { actor.may(.read, assignedTo: $0.place.agentId, department: $0.place.departmentId) }
        return EventLogPage(events: readable.map(\.event), next: slice.entries.last?.event.seq ?? after, head: slice.head, resync: false)
    }

    /// Deletes all but the newest `keep` entries: the log is for catching up after a sleep, a
    /// dropped network or a restart, not history (the tickets hold that). A page or follower further
    /// behind than the pruned entries is told to reload (`resync`). Returns how many were deleted.
    @discardableResult
    public func pruneEventLog(keep: Int = 1_000_000) async throws -> Int {
        try await stores.eventLog.prune(keep: keep)
    }

    /// Up to `limit` entries after `after`, each with its ticket's current assignee and department,
    /// for a follower that checks access per reader (the live feed).
    public func logEntries(after: Int64, limit: Int) async throws -> [EventLogSlice.Entry] {
        try await logSlice(after: after, limit: limit).entries
    }

    /// Up to `limit` entries after `after` with the log's head and pruning mark, read in one snapshot.
    public func logSlice(after: Int64, limit: Int) async throws -> EventLogSlice {
        try await stores.eventLog.slice(after: after, limit: limit)
    }

    /// The entries of `types` past a follower's durable cursor (`feed_cursors`, named `<feed>.log`),
    /// moving the cursor past every entry read: a follower sees each change once, in order.
    static func followLog(_ db: Database, _ feed: String, types: [LoggedEvent.Kind], limit: Int) throws -> [LoggedEvent] {
        let pending = try pendingLog(db, feed, types: types, limit: limit)
        try moveLog(db, feed, to: pending.next)
        return pending.events
    }

    /// The entries of `types` past a follower's cursor without moving it (a follower that acts
    /// outside this transaction moves it after acting, with `moveLog`). `next` is where the cursor
    /// goes once they are handled; `more` says entries past `next` may be waiting.
    static func pendingLog(_ db: Database, _ feed: String, types: [LoggedEvent.Kind], limit: Int) throws
        -> (events: [LoggedEvent], next: Int64, more: Bool)
    {
        let head = try SQLiteEventLogStore.head(db)
        let last = try Int64.fetchOne(db, sql: "SELECT last_id FROM feed_cursors WHERE name = ?", arguments: ["\(feed).log"]) ?? head
        let events = try SQLiteEventLogStore.entries(db, after: last, limit: limit, types: types).map(\.event)
        // A full batch ends at its last entry; a short one read everything of these types up to the head.
        return events.count == limit ? (events, events[limit - 1].seq, true) : (events, max(last, head), false)
    }

    /// Moves a follower's cursor forward to `seq` (never back).
    static func moveLog(_ db: Database, _ feed: String, to seq: Int64) throws {
        try db.execute(
            sql: "INSERT INTO feed_cursors (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
            arguments: ["\(feed).log", seq])
    }
}

extension Schema {
    /// The ordered event log: `events` (AUTOINCREMENT, so `seq` never goes back, even after
    /// pruning), how far it was pruned, and the triggers that append to it in the writing
    /// transaction. Followers (webhooks, alerts, rules) move from their per-table cursors to one cursor
    /// over the log, starting at its head; webhook deliveries get an index for in-order claims.
    static let eventLog = """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            ticket_id INTEGER NOT NULL,
            data TEXT
        );
        CREATE TABLE event_log_state (pruned_through INTEGER NOT NULL);
        INSERT INTO event_log_state VALUES (0);
        DELETE FROM feed_cursors WHERE name GLOB 'webhooks.*' OR name GLOB 'notify.*' OR name GLOB 'rules.*';
        INSERT INTO feed_cursors (name, last_id) VALUES ('webhooks.log', 0), ('notify.log', 0), ('rules.log', 0);
        CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(webhook_id, id) WHERE status = 'pending';

        CREATE TRIGGER events_ticket_opened AFTER INSERT ON tickets BEGIN
            INSERT INTO events (type, ticket_id) VALUES ('ticket_opened', NEW.id);
        END;
        CREATE TRIGGER events_ticket_status AFTER UPDATE OF status ON tickets WHEN OLD.status IS NOT NEW.status BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('status', NEW.id, json_object('status', NEW.status));
        END;
        CREATE TRIGGER events_ticket_assigned AFTER UPDATE OF agent_id ON tickets WHEN OLD.agent_id IS NOT NEW.agent_id BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('assigned', NEW.id,
                json_object('agentId', NEW.agent_id, 'moved', 1, 'fromAgentId', OLD.agent_id, 'fromDepartmentId', OLD.department_id));
        END;
        CREATE TRIGGER events_ticket_updated AFTER UPDATE OF priority, department_id, merged_into ON tickets
            WHEN OLD.priority IS NOT NEW.priority OR OLD.department_id IS NOT NEW.department_id OR OLD.merged_into IS NOT NEW.merged_into BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('ticket_updated', NEW.id,
                json_object('moved', 1, 'fromAgentId', OLD.agent_id, 'fromDepartmentId', OLD.department_id));
        END;
        CREATE TRIGGER events_tag_added AFTER INSERT ON ticket_tags BEGIN
            INSERT INTO events (type, ticket_id) VALUES ('ticket_updated', NEW.ticket_id);
        END;
        CREATE TRIGGER events_tag_removed AFTER DELETE ON ticket_tags BEGIN
            INSERT INTO events (type, ticket_id) VALUES ('ticket_updated', OLD.ticket_id);
        END;
        CREATE TRIGGER events_message AFTER INSERT ON messages BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('message', NEW.ticket_id, json_object('messageId', NEW.id, 'direction', NEW.direction));
        END;
        CREATE TRIGGER events_message_moved AFTER UPDATE OF ticket_id ON messages WHEN OLD.ticket_id IS NOT NEW.ticket_id BEGIN
            INSERT INTO events (type, ticket_id) VALUES ('ticket_updated', OLD.ticket_id);
            INSERT INTO events (type, ticket_id) VALUES ('ticket_updated', NEW.ticket_id);
        END;
        CREATE TRIGGER events_message_status AFTER UPDATE OF status ON messages WHEN OLD.status IS NOT NEW.status BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('message_status', NEW.ticket_id, json_object('messageId', NEW.id, 'status', NEW.status));
        END;
        CREATE TRIGGER events_note AFTER INSERT ON ticket_notes BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('note', NEW.ticket_id, json_object('noteId', NEW.id));
        END;
        CREATE TRIGGER events_history AFTER INSERT ON ticket_events BEGIN
            INSERT INTO events (type, ticket_id, data) VALUES ('history', NEW.ticket_id, json_object('historyId', NEW.id, 'kind', NEW.kind));
        END;
        """

    /// A contact's name arriving (platform profiles come after the first message) or an identity
    /// joining the contact changes how its tickets read: `ticket_updated` for each ticket that is
    /// not closed, so a page showing "Customer #12" shows the name without a reload.
    static let eventLogContacts = """
        CREATE TRIGGER events_contact_named AFTER UPDATE OF display_name ON contacts WHEN OLD.display_name IS NOT NEW.display_name BEGIN
            INSERT INTO events (type, ticket_id) SELECT 'ticket_updated', id FROM tickets WHERE contact_id = NEW.id AND status != 'closed';
        END;
        CREATE TRIGGER events_identity_added AFTER INSERT ON identities BEGIN
            INSERT INTO events (type, ticket_id) SELECT 'ticket_updated', id FROM tickets WHERE contact_id = NEW.contact_id AND status != 'closed';
        END;
        CREATE TRIGGER events_identity_moved AFTER UPDATE OF contact_id ON identities WHEN OLD.contact_id IS NOT NEW.contact_id BEGIN
            INSERT INTO events (type, ticket_id) SELECT 'ticket_updated', id FROM tickets
                WHERE contact_id IN (OLD.contact_id, NEW.contact_id) AND status != 'closed';
        END;
        """
}
