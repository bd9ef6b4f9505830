import Foundation
import GRDB

extension SQLiteTicketStore {
    public func update(ticketId: Int64, _ update: TicketEdit, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let now = now.ms
        let actor = actor.label
        try await database.pool.write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT status, priority, agent_id, department_id FROM tickets WHERE id = ?", arguments: [ticketId])
            else { throw InboxError.notFound("ticket \(ticketId)") }
            try check(ticketId, [TicketPlace(agentId: current["agent_id"], departmentId: current["department_id"])])
            let from: String = current["status"]
            if let status = update.status, status.rawValue != from {
                if from == TicketStatus.closed.rawValue { throw InboxError.closedTicketReopened(ticketId) }
                let reopened = status.reopens
                try db.execute(sql: """
                    UPDATE tickets SET status = ?, updated_at = ?,
                        resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE NULL END,
                        resolution_reason = CASE WHEN ? THEN NULL ELSE resolution_reason END,
                        queued_at = CASE WHEN ? THEN queued_at ELSE NULL END
                    WHERE id = ?
                    """, arguments: [status.rawValue, now, status.rawValue, now, reopened, reopened, ticketId])
                try Self.record(db, ticketId: ticketId, "status", by: actor, ["from": from, "to": status.rawValue], at: now)
            }
            if let priority = update.priority, priority.rawValue != current["priority"] {
                try db.execute(sql: "UPDATE tickets SET priority = ?, updated_at = ? WHERE id = ?", arguments: [priority.rawValue, now, ticketId])
                try Self.record(db, ticketId: ticketId, "priority", by: actor, ["from": current["priority"], "to": priority.rawValue], at: now)
            }
            if let reason = update.resolutionReason {
                try db.execute(sql: "UPDATE tickets SET resolution_reason = ?, updated_at = ? WHERE id = ?", arguments: [reason.rawValue, now, ticketId])
                try Self.record(db, ticketId: ticketId, "resolution_reason", by: actor, ["to": reason.rawValue], at: now)
            }
            for tag in update.addTags {
                try db.execute(sql: "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?, ?)", arguments: [ticketId, tag])
                if db.changesCount > 0 { try Self.record(db, ticketId: ticketId, "tagged", by: actor, ["tag": tag], at: now) }
            }
            for tag in update.removeTags {
                try db.execute(sql: "DELETE FROM ticket_tags WHERE ticket_id = ? AND tag = ?", arguments: [ticketId, tag])
                if db.changesCount > 0 { try Self.record(db, ticketId: ticketId, "untagged", by: actor, ["tag": tag], at: now) }
            }
            for change in update.fields {
                try SQLiteCustomFieldStore.set(db, change, scope: .ticket, subject: ticketId)
                try Self.record(db, ticketId: ticketId, "field", by: actor, ["key": change.field.key, "value": change.value], at: now)
            }
        }
    }
}
