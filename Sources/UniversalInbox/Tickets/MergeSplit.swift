import Foundation
import GRDB

extension Inbox {
    /// Merges `others` into `survivor`: their messages, notes and tags move over (messages stay in
    /// time order), and each merged ticket is closed pointing at the survivor. Only tickets of the
    /// same contact merge (link the contacts first); all or nothing.
    public func merge(_ others: [Int64], into survivor: Int64, by actor: Caller) async throws -> TicketSummary {
        let others = Array(Set(others)).sorted()
        let now = clock().ms
        try await database.pool.write { db in
            // Access first: who may not touch the ticket learns nothing more about the request.
            try Self.authorize(db, actor, ticketId: survivor, for: .answer)
            guard !others.isEmpty else { throw InboxError.invalid(code: "nothing_to_merge", message: "name the tickets to merge in ticketIds") }
            guard !others.contains(survivor) else { throw InboxError.unprocessable(code: "merge_into_itself", message: "a ticket cannot be merged into itself") }
            _ = try Self.assignable(db, survivor)
            let contact = try Int64.fetchOne(db, sql: "SELECT contact_id FROM tickets WHERE id = ?", arguments: [survivor])
            for other in others {
                try Self.authorize(db, actor, ticketId: other, for: .answer)
                let row = try Self.assignable(db, other)
                if let into = row["merged_into"] as Int64? {
                    throw InboxError.conflict(code: "already_merged", message: "ticket \(other) was merged into \(into)")
                }
                guard try Int64.fetchOne(db, sql: "SELECT contact_id FROM tickets WHERE id = ?", arguments: [other]) == contact else {
                    throw InboxError.conflict(
                        code: "different_contacts", message: "ticket \(other) is another contact's; link the contacts first if they are the same customer")
                }
                for table in ["messages", "outbox", "ticket_notes"] {
                    try db.execute(sql: "UPDATE \(table) SET ticket_id = ? WHERE ticket_id = ?", arguments: [survivor, other])
                }
                try db.execute(sql: "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) SELECT ?, tag FROM ticket_tags WHERE ticket_id = ?", arguments: [survivor, other])
                try db.execute(sql: """
                    UPDATE tickets SET status = 'closed', merged_into = ?, agent_id = NULL, queued_at = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [survivor, now, other])
                try Self.record(db, ticketId: other, "merged", by: actor.label, ["into": String(survivor)], at: now)
                try Self.record(db, ticketId: survivor, "merged_in", by: actor.label, ["ticketId": String(other)], at: now)
            }
            try Self.refreshChannels(db, tickets: [survivor] + others)
            try Self.refreshLastIdentity(db, ticketId: survivor)
            try db.execute(sql: "UPDATE tickets SET updated_at = ? WHERE id = ?", arguments: [now, survivor])
        }
        bus.publish(others.map { .ticketStatusChanged(ticketId: $0, status: .closed) })
        return try await summary(survivor)
    }

    /// Moves `messageIds` of a ticket to a new ticket of the same contact, which opens and joins the
    /// queue; at least one message must stay. Returns the new ticket.
    public func split(ticketId: Int64, messageIds: [Int64], by actor: Caller) async throws -> TicketSummary {
        let chosen = Array(Set(messageIds)).sorted()
        guard !chosen.isEmpty else { throw InboxError.invalid(code: "nothing_to_split", message: "name the messages to move in messageIds") }
        let now = clock().ms
        let newId: Int64 = try await database.pool.write { db in
            try Self.authorize(db, actor, ticketId: ticketId, for: .answer)
            _ = try Self.assignable(db, ticketId)
            let own = Set(try Int64.fetchAll(db, sql: "SELECT id FROM messages WHERE ticket_id = ?", arguments: [ticketId]))
            if let stranger = chosen.first(where: { !own.contains($0) }) {
                throw InboxError.unprocessable(code: "not_in_ticket", message: "message \(stranger) is not in ticket \(ticketId)")
            }
            guard own.count > chosen.count else {
                throw InboxError.unprocessable(code: "nothing_left", message: "at least one message must stay in ticket \(ticketId)")
            }
            let ids = chosen.map(String.init).joined(separator: ",")
            guard let identity = try Int64.fetchOne(db, sql: "SELECT identity_id FROM messages WHERE id IN (\(ids)) ORDER BY created_at DESC, id DESC LIMIT 1")
            else { throw InboxError.notFound("messages") }
            let first = try Int64.fetchOne(db, sql: "SELECT min(created_at) FROM messages WHERE id IN (\(ids))") ?? now
            try db.execute(sql: """
                INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at, queued_at, department_id, priority)
                SELECT contact_id, 'open', ?, ?, ?, ?, department_id, priority FROM tickets WHERE id = ?
                """, arguments: [identity, first, now, now, ticketId])
            let newId = db.lastInsertedRowID
            try db.execute(sql: "UPDATE messages SET ticket_id = ? WHERE id IN (\(ids))", arguments: [newId])
            try db.execute(sql: "UPDATE outbox SET ticket_id = ? WHERE message_id IN (\(ids))", arguments: [newId])
            try Self.refreshChannels(db, tickets: [ticketId, newId])
            try Self.refreshLastIdentity(db, ticketId: ticketId)
            try Self.record(db, ticketId: ticketId, "split", by: actor.label, ["newTicketId": String(newId), "messages": ids], at: now)
            try Self.record(db, ticketId: newId, "split_from", by: actor.label, ["ticketId": String(ticketId), "messages": ids], at: now)
            return newId
        }
        bus.publish([.ticketQueued(ticketId: newId)])
        return try await summary(newId)
    }

    /// Rebuilds the channels a ticket used from its messages, in first-use order.
    static func refreshChannels(_ db: Database, tickets: [Int64]) throws {
        for ticket in tickets {
            try db.execute(sql: "DELETE FROM ticket_channels WHERE ticket_id = ?", arguments: [ticket])
            try db.execute(sql: """
                INSERT INTO ticket_channels (ticket_id, channel)
                SELECT ?, channel FROM messages WHERE ticket_id = ? GROUP BY channel ORDER BY min(created_at), min(id)
                """, arguments: [ticket, ticket])
        }
    }

    /// The identity a reply goes to: the one of the newest inbound message (else the newest message).
    static func refreshLastIdentity(_ db: Database, ticketId: Int64) throws {
        try db.execute(sql: """
            UPDATE tickets SET last_identity_id = coalesce(
                (SELECT identity_id FROM messages WHERE ticket_id = ?1 AND direction = 'in' ORDER BY created_at DESC, id DESC LIMIT 1),
                (SELECT identity_id FROM messages WHERE ticket_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1),
                last_identity_id)
            WHERE id = ?1
            """, arguments: [ticketId])
    }
}
