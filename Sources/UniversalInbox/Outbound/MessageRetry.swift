import ChannelKit
import Foundation
import GRDB

extension Inbox {
    /// Sends a failed outbound message again: an agent who may answer its ticket puts it back in the
    /// outbox, and its status goes back to `queued` (the event log records the change), all in one
    /// transaction. It keeps its idempotency key, as the dispatcher's own retries do, so a platform
    /// that took an earlier attempt after all (LINE's retry key answers 409) does not deliver it
    /// twice. The channel's rules are checked as they stand now (`vet`: a window may have closed
    /// since), and a refusal changes nothing. Not failed (or not outbound): `not_failed`.
    public func retryFailedMessage(_ messageId: Int64, by actor: Caller, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> StoredMessage {
        let now = clock()
        let ticketId: Int64 = try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT m.*, t.status AS ticket_status FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.id = ?
                """, arguments: [messageId])
            else { throw InboxError.notFound("message \(messageId)") }
            let ticketId: Int64 = row["ticket_id"]
            try Self.authorize(db, actor, ticketId: ticketId, for: .answer)
            guard row["direction"] as String == MessageDirection.outbound.rawValue, row["status"] as String == "failed" else {
                throw InboxError.conflict(code: "not_failed", message: "message \(messageId) is not a failed outbound message; only those are sent again")
            }
            if row["ticket_status"] as String == TicketStatus.closed.rawValue {
                throw InboxError.conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed; a new message from the customer opens a new ticket")
            }
            let identityId: Int64 = row["identity_id"]
            guard let identity = try Row.fetchOne(db, sql: "SELECT * FROM identities WHERE id = ?", arguments: [identityId]) else {
                throw InboxError.notFound("identity \(identityId)")
            }
            let content = try ContentCoding.decode(MessageContent.self, row["content"])
            if let refusal = vet(Self.replyTarget(identity, key: row["idempotency_key"], content: content, now: now)) { throw InboxError.refused(refusal) }
            try db.execute(
                sql: "UPDATE messages SET status = 'queued', failure_code = NULL, failure_reason = NULL, updated_at = ? WHERE id = ?",
                arguments: [now.ms, messageId])
            try Self.enqueue(db, messageId: messageId, ticketId: ticketId, account: row["account"], at: now)
            return ticketId
        }
        bus.publish([.messageQueued(ticketId: ticketId, messageId: messageId)])
        guard let message = try await message(id: messageId) else { throw InboxError.notFound("message \(messageId)") }
        return message
    }
}
