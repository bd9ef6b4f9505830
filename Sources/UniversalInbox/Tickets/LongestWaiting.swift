import Foundation
import GRDB

/// The order of a ticket list.
public enum TicketSort: String, Sendable, CaseIterable {
    /// Newest activity first (`updated_at`).
    case newest
    /// Longest waiting first: oldest `waitingSince` first (then by id), then the tickets nobody waits
    /// on, newest activity first.
    case waiting
}

/// A ticket's `waiting_since`: the time of the customer's oldest message that is not answered yet,
/// null when every customer message is answered. A customer message is answered by any outbound
/// message written at or after it, except the bridge's own automatic ones (author `system`: queue
/// notices, acknowledgements, out-of-hours replies, satisfaction questions), which answer nobody.
/// Notes are not messages and answer nothing either.
///
/// It is kept in the ticket row by triggers (`Schema.waitingSince`, `Schema.waitingSinceOnInsert`)
/// whenever a message is added, moved (merge, split) or removed, so the longest-waiting list walks
/// an index instead of computing it for every ticket.
enum WaitingSince {
    /// The value for `tickets.id` (SQL correlated on `tickets`). Both lookups walk `messages_ticket`
    /// from one end and stop at the first row of the wanted direction: the last reply's lookup walks
    /// every message of a ticket that has none, so a new customer message does not use it
    /// (`Schema.waitingSinceOnInsert`).
    static let sql = """
        (SELECT m.created_at FROM messages m
         WHERE m.ticket_id = tickets.id AND m.direction = 'in'
           AND m.created_at > coalesce((SELECT o.created_at FROM messages o
                                        WHERE o.ticket_id = tickets.id AND o.direction = 'out' AND o.author IS NOT 'system'
                                        ORDER BY o.created_at DESC LIMIT 1), -1)
         ORDER BY m.created_at LIMIT 1)
        """
}

/// Keyset cursor of the longest-waiting list, opaque to clients: `w:<waiting>:<id>` while in the
/// waiting tickets, `n:<updated>:<id>` in the answered ones after them. A cursor from before v40,
/// `w:<waiting>:<updated>:<id>`, still reads: the waiting tickets were in that order by wait first.
enum WaitingCursor {
    enum Position: Equatable {
        case waiting(since: Int64, id: Int64)
        case answered(updatedAt: Int64, id: Int64)
    }

    static func encode(_ position: Position) -> String {
        let text =
            switch position {
            case .waiting(let since, let id): "w:\(since):\(id)"
            case .answered(let updatedAt, let id): "n:\(updatedAt):\(id)"
            }
        return Data(text.utf8).base64EncodedString()
    }

    static func decode(_ cursor: String) -> Position? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":", omittingEmptySubsequences: false)
        let numbers = parts.dropFirst().compactMap { Int64($0) }
        guard numbers.count == parts.count - 1 else { return nil }
        switch (parts.first, numbers.count) {
        case ("w", 2): return .waiting(since: numbers[0], id: numbers[1])
        case ("w", 3): return .waiting(since: numbers[0], id: numbers[2])
        case ("n", 2): return .answered(updatedAt: numbers[0], id: numbers[1])
        default: return nil
        }
    }
}

extension Schema {
    /// `tickets.waiting_since` (see `WaitingSince`), filled in for every ticket, kept by triggers,
    /// and indexed for the longest-waiting list.
    static let waitingSince = """
        ALTER TABLE tickets ADD COLUMN waiting_since INTEGER;
        UPDATE tickets SET waiting_since = \(WaitingSince.sql);
        CREATE INDEX tickets_waiting ON tickets(waiting_since, updated_at, id);
        CREATE TRIGGER waiting_message_added AFTER INSERT ON messages BEGIN
            UPDATE tickets SET waiting_since = \(WaitingSince.sql) WHERE id = NEW.ticket_id;
        END;
        CREATE TRIGGER waiting_message_moved AFTER UPDATE OF ticket_id ON messages WHEN OLD.ticket_id IS NOT NEW.ticket_id BEGIN
            UPDATE tickets SET waiting_since = \(WaitingSince.sql) WHERE id IN (OLD.ticket_id, NEW.ticket_id);
        END;
        CREATE TRIGGER waiting_message_removed AFTER DELETE ON messages BEGIN
            UPDATE tickets SET waiting_since = \(WaitingSince.sql) WHERE id = OLD.ticket_id;
        END;
        """

    /// A new customer message at `t` can only start the wait or move its start earlier, and only if
    /// it is newer than the last reply: `waiting_since` becomes `t` when it is null or later than `t`
    /// and `t` is after the last reply. The ticket row answers the first test, so the reply lookup
    /// runs only for a customer message that may start a wait (the first after a reply, or one
    /// delivered late), not for every message of a long conversation (on a ticket without a reply it
    /// read every message: a third of the SQL of filing a message at 60 messages a ticket). Other
    /// messages recompute it as before.
    static let waitingSinceOnInsert = """
        DROP TRIGGER waiting_message_added;
        CREATE TRIGGER waiting_inbound_added AFTER INSERT ON messages
            WHEN NEW.direction = 'in'
                AND (SELECT waiting_since IS NULL OR waiting_since > NEW.created_at FROM tickets WHERE id = NEW.ticket_id)
        BEGIN
            UPDATE tickets SET waiting_since = NEW.created_at
            WHERE id = NEW.ticket_id
                AND NEW.created_at > coalesce((SELECT o.created_at FROM messages o
                                               WHERE o.ticket_id = NEW.ticket_id AND o.direction = 'out' AND o.author IS NOT 'system'
                                               ORDER BY o.created_at DESC LIMIT 1), -1);
        END;
        CREATE TRIGGER waiting_other_added AFTER INSERT ON messages WHEN NEW.direction IS NOT 'in' BEGIN
            UPDATE tickets SET waiting_since = \(WaitingSince.sql) WHERE id = NEW.ticket_id;
        END;
        """
}
