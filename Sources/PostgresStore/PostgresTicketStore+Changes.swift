import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// Ticket edits on PostgreSQL. Each writes rows the triggers log (the ticket, its tags, its
/// history), so it takes the event log's counter (`event_seq`) first, then locks the ticket: the
/// order ingest uses, so the two never deadlock, and two processes editing one ticket take turns.
extension PostgresTicketStore {
    public func update(ticketId: Int64, _ update: TicketEdit, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let logger = logger
        let now = now.ms
        let actor = actor.label
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let rows = try await connection.query(
                "SELECT status, priority, agent_id, department_id FROM tickets WHERE id = \(ticketId) FOR UPDATE", logger: logger
            ).decode((String, String, Int64?, Int64?).self).all()
            guard let (from, priorityBefore, agentId, departmentId) = rows.first else { throw InboxError.notFound("ticket \(ticketId)") }
            try check(ticketId, [TicketPlace(agentId: agentId, departmentId: departmentId)])
            let record = { (kind: String, detail: [String: String?]) in
                try await PostgresTicketHistory.record(ticketId, kind, by: actor, detail, at: now, on: connection, logger: logger)
            }
            if let status = update.status, status.rawValue != from {
                if from == TicketStatus.closed.rawValue { throw InboxError.closedTicketReopened(ticketId) }
                let reopened = status.reopens
                try await connection.query("""
                    UPDATE tickets SET status = \(status.rawValue), updated_at = \(now), resolved_at = \(status == .resolved ? now : nil),
                        resolution_reason = CASE WHEN \(reopened) THEN NULL ELSE resolution_reason END,
                        queued_at = CASE WHEN \(reopened) THEN queued_at ELSE NULL END
                    WHERE id = \(ticketId)
                    """, logger: logger)
                try await record("status", ["from": from, "to": status.rawValue])
            }
            if let priority = update.priority, priority.rawValue != priorityBefore {
                try await connection.query("UPDATE tickets SET priority = \(priority.rawValue), updated_at = \(now) WHERE id = \(ticketId)", logger: logger)
                try await record("priority", ["from": priorityBefore, "to": priority.rawValue])
            }
            if let reason = update.resolutionReason {
                try await connection.query(
                    "UPDATE tickets SET resolution_reason = \(reason.rawValue), updated_at = \(now) WHERE id = \(ticketId)", logger: logger)
                try await record("resolution_reason", ["to": reason.rawValue])
            }
            for tag in update.addTags {
                let added = try await connection.query("""
                    INSERT INTO ticket_tags (ticket_id, tag) VALUES (\(ticketId), \(tag)) ON CONFLICT (ticket_id, tag) DO NOTHING RETURNING tag
                    """, logger: logger).decode(String.self).all()
                if !added.isEmpty { try await record("tagged", ["tag": tag]) }
            }
            for tag in update.removeTags {
                let removed = try await connection.query(
                    "DELETE FROM ticket_tags WHERE ticket_id = \(ticketId) AND tag = \(tag) RETURNING tag", logger: logger
                ).decode(String.self).all()
                if !removed.isEmpty { try await record("untagged", ["tag": tag]) }
            }
            for change in update.fields {
                try await connection.holdField(change.field.id, logger: logger)
                if let value = change.value {
                    try await connection.query("""
                        INSERT INTO ticket_fields (ticket_id, field_id, value) VALUES (\(ticketId), \(change.field.id), \(value))
                        ON CONFLICT (ticket_id, field_id) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                } else {
                    try await connection.query("DELETE FROM ticket_fields WHERE ticket_id = \(ticketId) AND field_id = \(change.field.id)", logger: logger)
                }
                try await record("field", ["key": change.field.key, "value": change.value])
            }
        }
    }
}
