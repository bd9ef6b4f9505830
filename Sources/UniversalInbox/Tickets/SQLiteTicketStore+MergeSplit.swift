import Foundation
import GRDB

extension SQLiteTicketStore {
    public func merge(_ others: [Int64], into survivor: Int64, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let now = now.ms
        let actor = actor.label
        try await database.pool.write { db in
            let contact = try Self.mergeable(db, survivor, check)["contact_id"] as Int64
            for other in others {
                let row = try Self.mergeable(db, other, check)
                if let into = row["merged_into"] as Int64? { throw InboxError.alreadyMerged(other, into: into) }
                guard row["contact_id"] == contact else { throw InboxError.differentContacts(other) }
                for table in ["messages", "outbox", "ticket_notes"] {
                    try db.execute(sql: "UPDATE \(table) SET ticket_id = ? WHERE ticket_id = ?", arguments: [survivor, other])
                }
                try db.execute(sql: "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) SELECT ?, tag FROM ticket_tags WHERE ticket_id = ?", arguments: [survivor, other])
                try db.execute(sql: """
                    UPDATE tickets SET status = 'closed', merged_into = ?, agent_id = NULL, queued_at = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [survivor, now, other])
                try Self.record(db, ticketId: other, "merged", by: actor, ["into": String(survivor)], at: now)
                try Self.record(db, ticketId: survivor, "merged_in", by: actor, ["ticketId": String(other)], at: now)
            }
            try Self.refreshChannels(db, tickets: [survivor] + others)
            try Self.refreshLastIdentity(db, ticketId: survivor)
            try db.execute(sql: "UPDATE tickets SET updated_at = ? WHERE id = ?", arguments: [now, survivor])
        }
    }

    public func split(ticketId: Int64, messageIds chosen: [Int64], by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws -> Int64 {
        let now = now.ms
        let actor = actor.label
        return try await database.pool.write { db in
            _ = try Self.mergeable(db, ticketId, check)
            let own = Set(try Int64.fetchAll(db, sql: "SELECT id FROM messages WHERE ticket_id = ?", arguments: [ticketId]))
            if let stranger = chosen.first(where: { !own.contains($0) }) { throw InboxError.notInTicket(message: stranger, ticketId: ticketId) }
            guard own.count > chosen.count else { throw InboxError.nothingLeft(ticketId: ticketId) }
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
            try Self.record(db, ticketId: ticketId, "split", by: actor, ["newTicketId": String(newId), "messages": ids], at: now)
            try Self.record(db, ticketId: newId, "split_from", by: actor, ["ticketId": String(ticketId), "messages": ids], at: now)
            return newId
        }
    }

    /// The ticket's row (contact, merged into) once `check` allows the caller on its place and it
    /// is not closed: `notFound`, what `check` throws, or `ticket_closed` otherwise.
    private static func mergeable(_ db: Database, _ ticketId: Int64, _ check: TicketCheck) throws -> Row {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT status, agent_id, department_id, contact_id, merged_into FROM tickets WHERE id = ?", arguments: [ticketId])
        else { throw InboxError.notFound("ticket \(ticketId)") }
        try check(ticketId, [TicketPlace(agentId: row["agent_id"], departmentId: row["department_id"])])
        if row["status"] == TicketStatus.closed.rawValue { throw InboxError.closedTicketAssignment(ticketId) }
        return row
    }

    /// Rebuilds the channels a ticket used from its messages, in first-use order.
    private static func refreshChannels(_ db: Database, tickets: [Int64]) throws {
        for ticket in tickets {
            try db.execute(sql: "DELETE FROM ticket_channels WHERE ticket_id = ?", arguments: [ticket])
            try db.execute(sql: """
                INSERT INTO ticket_channels (ticket_id, channel)
                SELECT ?, channel FROM messages WHERE ticket_id = ? GROUP BY channel ORDER BY min(created_at), min(id)
                """, arguments: [ticket, ticket])
        }
    }

    /// The identity a reply goes to: the one of the newest inbound message (else the newest message).
    private static func refreshLastIdentity(_ db: Database, ticketId: Int64) throws {
        try db.execute(sql: """
            UPDATE tickets SET last_identity_id = coalesce(
                (SELECT identity_id FROM messages WHERE ticket_id = ?1 AND direction = 'in' ORDER BY created_at DESC, id DESC LIMIT 1),
                (SELECT identity_id FROM messages WHERE ticket_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1),
                last_identity_id)
            WHERE id = ?1
            """, arguments: [ticketId])
    }
}
