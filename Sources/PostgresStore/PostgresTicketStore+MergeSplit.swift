import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// Merges and splits on PostgreSQL. Both move messages (which the triggers log), so each takes the
/// event log's counter (`event_seq`) first, then locks every ticket it changes, in id order: two
/// processes merging overlapping tickets take turns, and the second sees the first's result (a
/// survivor merged away is closed: `ticket_closed`) instead of moving messages into a closed ticket.
extension PostgresTicketStore {
    public func merge(_ others: [Int64], into survivor: Int64, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let logger = logger
        let now = now.ms
        let actor = actor.label
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let locked = try await Self.lock([survivor] + others, on: connection, logger: logger)
            let contact = try Self.mergeable(survivor, locked, check).contactId
            for other in others {
                let ticket = try Self.mergeable(other, locked, check)
                if let into = ticket.mergedInto { throw InboxError.alreadyMerged(other, into: into) }
                guard ticket.contactId == contact else { throw InboxError.differentContacts(other) }
            }
            for other in others {
                for table in ["messages", "outbox", "ticket_notes"] {
                    try await connection.query(
                        PostgresQuery.shared("UPDATE \(table) SET ticket_id = ? WHERE ticket_id = ?", [survivor, other]), logger: logger)
                }
                try await connection.query("""
                    INSERT INTO ticket_tags (ticket_id, tag) SELECT \(survivor), tag FROM ticket_tags WHERE ticket_id = \(other)
                    ON CONFLICT (ticket_id, tag) DO NOTHING
                    """, logger: logger)
                try await connection.query("""
                    UPDATE tickets SET status = 'closed', merged_into = \(survivor), agent_id = NULL, queued_at = NULL, updated_at = \(now) WHERE id = \(other)
                    """, logger: logger)
                try await PostgresTicketHistory.record(other, "merged", by: actor, ["into": String(survivor)], at: now, on: connection, logger: logger)
                try await PostgresTicketHistory.record(survivor, "merged_in", by: actor, ["ticketId": String(other)], at: now, on: connection, logger: logger)
            }
            try await Self.refreshChannels([survivor] + others, on: connection, logger: logger)
            try await Self.refreshLastIdentity(survivor, on: connection, logger: logger)
            try await connection.query("UPDATE tickets SET updated_at = \(now) WHERE id = \(survivor)", logger: logger)
        }
    }

    public func split(ticketId: Int64, messageIds chosen: [Int64], by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws -> Int64 {
        let logger = logger
        let now = now.ms
        let actor = actor.label
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            _ = try Self.mergeable(ticketId, try await Self.lock([ticketId], on: connection, logger: logger), check)
            let own = Set(try await connection.query("SELECT id FROM messages WHERE ticket_id = \(ticketId)", logger: logger).decode(Int64.self).all())
            if let stranger = chosen.first(where: { !own.contains($0) }) { throw InboxError.notInTicket(message: stranger, ticketId: ticketId) }
            guard own.count > chosen.count else { throw InboxError.nothingLeft(ticketId: ticketId) }
            let newest = try await connection.query("""
                SELECT identity_id, (SELECT min(created_at) FROM messages WHERE id = ANY(\(chosen))) FROM messages WHERE id = ANY(\(chosen))
                ORDER BY created_at DESC, id DESC LIMIT 1
                """, logger: logger).decode((Int64, Int64).self).all()
            guard let (identity, first) = newest.first else { throw InboxError.notFound("messages") }
            let created = try await connection.query("""
                INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at, queued_at, department_id, priority)
                SELECT contact_id, 'open', \(identity), \(first), \(now), \(now), department_id, priority FROM tickets WHERE id = \(ticketId)
                RETURNING id
                """, logger: logger).decode(Int64.self).all()
            guard let newId = created.first else { throw InboxError.notFound("ticket \(ticketId)") }
            try await connection.query("UPDATE messages SET ticket_id = \(newId) WHERE id = ANY(\(chosen))", logger: logger)
            try await connection.query("UPDATE outbox SET ticket_id = \(newId) WHERE message_id = ANY(\(chosen))", logger: logger)
            try await Self.refreshChannels([ticketId, newId], on: connection, logger: logger)
            try await Self.refreshLastIdentity(ticketId, on: connection, logger: logger)
            let ids = chosen.map(String.init).joined(separator: ",")
            try await PostgresTicketHistory.record(ticketId, "split", by: actor, ["newTicketId": String(newId), "messages": ids], at: now, on: connection, logger: logger)
            try await PostgresTicketHistory.record(newId, "split_from", by: actor, ["ticketId": String(ticketId), "messages": ids], at: now, on: connection, logger: logger)
            return newId
        }
    }

    /// A ticket as a merge or split finds it, locked.
    struct LockedTicket {
        var status: String
        var place: TicketPlace
        var contactId: Int64
        var mergedInto: Int64?
    }

    /// Locks the tickets in id order (so two transactions locking overlapping sets take turns) and
    /// returns them by id; missing ones are absent.
    private static func lock(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws -> [Int64: LockedTicket] {
        var locked: [Int64: LockedTicket] = [:]
        for try await (id, status, agentId, departmentId, contactId, mergedInto) in try await connection.query("""
            SELECT id, status, agent_id, department_id, contact_id, merged_into FROM tickets WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
            """, logger: logger).decode((Int64, String, Int64?, Int64?, Int64, Int64?).self) {
            locked[id] = LockedTicket(status: status, place: TicketPlace(agentId: agentId, departmentId: departmentId), contactId: contactId, mergedInto: mergedInto)
        }
        return locked
    }

    /// The locked ticket once `check` allows the caller on its place and it is not closed:
    /// `notFound`, what `check` throws, or `ticket_closed` otherwise.
    private static func mergeable(_ ticketId: Int64, _ locked: [Int64: LockedTicket], _ check: TicketCheck) throws -> LockedTicket {
        guard let ticket = locked[ticketId] else { throw InboxError.notFound("ticket \(ticketId)") }
        try check(ticketId, [ticket.place])
        if ticket.status == TicketStatus.closed.rawValue { throw InboxError.closedTicketAssignment(ticketId) }
        return ticket
    }

    /// Rebuilds the channels each ticket used from its messages, in first-use order.
    private static func refreshChannels(_ tickets: [Int64], on connection: PostgresConnection, logger: Logger) async throws {
        for ticket in tickets {
            try await connection.query("DELETE FROM ticket_channels WHERE ticket_id = \(ticket)", logger: logger)
            try await connection.query("""
                INSERT INTO ticket_channels (ticket_id, channel)
                SELECT \(ticket), channel FROM messages WHERE ticket_id = \(ticket) GROUP BY channel ORDER BY min(created_at), min(id)
                """, logger: logger)
        }
    }

    /// The identity a reply goes to: the one of the newest inbound message (else the newest message).
    private static func refreshLastIdentity(_ ticketId: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            UPDATE tickets SET last_identity_id = coalesce(
                (SELECT identity_id FROM messages WHERE ticket_id = \(ticketId) AND direction = 'in' ORDER BY created_at DESC, id DESC LIMIT 1),
                (SELECT identity_id FROM messages WHERE ticket_id = \(ticketId) ORDER BY created_at DESC, id DESC LIMIT 1),
                last_identity_id)
            WHERE id = \(ticketId)
            """, logger: logger)
    }
}
