import ChannelKit
import Foundation
import GRDB

/// The SQL of ingesting one webhook's events on SQLite (`SQLiteIngestStore`), run inside the caller's transaction: dedupe on the
/// platform's event id, upsert the contact and identity, route to the open ticket, append, and
/// queue follow-up jobs. One way in for every channel.
struct IngestWriter {
    let db: Database
    let account: ChannelAccountRef
    let now: Int64

    func ingest(_ events: [InboundEvent]) throws -> IngestResult {
        var result = IngestResult()
        for event in events {
            try DirectStatement(db, "INSERT OR IGNORE INTO processed_events (account, event_id, received_at) VALUES (?, ?, ?)", account.key, event.eventId, now)
                .run()
            guard db.changesCount == 1 else {
                result.duplicates += 1
                continue
            }
            result.stored += 1
            switch event.kind {
            case .message:
                guard let sender = event.sender, let message = event.message else { continue }
                try appendInbound(message, from: sender, at: event.occurredAt.ms, into: &result)
            case .follow, .unfollow:
                guard let sender = event.sender else { continue }
                let identity = try upsertIdentity(sender, into: &result)
                try db.cachedStatement(sql: "UPDATE identities SET blocked = ? WHERE id = ?")
                    .execute(arguments: [event.kind == .unfollow, identity.id])
            case .receipt:
                guard let receipt = event.receipt else { continue }
                let writer = ReceiptWriter(db: db, account: account, now: now)
                if let upTo = receipt.upTo, let customer = event.sender {
                    try writer.applyWatermark(receipt.status, upTo: upTo.ms, customer: customer.id, into: &result.events)
                } else {
                    try writer.apply(receipt, into: &result.events)
                }
            }
        }
        return result
    }

    /// Keeps events the adapter could not read, once per account and body (the newest
    /// `UnreadableEvent.keptPerAccount` per account; a longer text is cut). Returns how many were new.
    func keep(_ unreadable: [UnreadableEvent]) throws -> Int {
        var kept = 0
        for event in unreadable {
            let (reason, raw, digest) = event.kept
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO unreadable_events (account, reason, raw, digest, received_at) VALUES (?, ?, ?, ?, ?)
                """).execute(arguments: [account.key, reason, raw, digest, now])
            kept += db.changesCount
        }
        if kept > 0 {
            try db.cachedStatement(sql: """
                DELETE FROM unreadable_events WHERE account = ? AND id <= (
                    SELECT id FROM unreadable_events WHERE account = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                """).execute(arguments: [account.key, account.key, UnreadableEvent.keptPerAccount])
        }
        return kept
    }

    private func appendInbound(_ message: InboundMessage, from sender: Sender, at occurredAt: Int64, into result: inout IngestResult) throws {
        let identity = try upsertIdentity(sender, writing: Inbound(at: occurredAt, replyToken: message.replyToken), into: &result)
        let content = message.content
        let ticketId: Int64
        if let answered = try ratingAnswer(content, contactId: identity.contactId)?.ticketId {
            ticketId = answered
        } else if let thread = message.thread {
            ticketId = try threadTicket(thread, contactId: identity.contactId, identityId: identity.id, into: &result)
        } else {
            ticketId = try route(contactId: identity.contactId, identityId: identity.id, into: &result)
        }
        try DirectStatement(
            db, """
                INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status,
                    platform_message_id, idempotency_key, created_at, updated_at)
                VALUES (?, ?, 'in', ?, ?, ?, ?, 'received', ?, ?, ?, ?)
                """,
            ticketId, identity.id, account.kind.rawValue, account.key, try ContentCoding.encode(content), content.summary,
            message.id, MessageKey.random(), occurredAt, now
        ).run()
        let messageId = db.lastInsertedRowID
        try DirectStatement(db, "INSERT OR IGNORE INTO ticket_channels (ticket_id, channel) VALUES (?, ?)", ticketId, account.kind.rawValue).run()
        if let media = content.media, content.needsDownload {
            try db.cachedStatement(sql: """
                INSERT INTO attachments (message_id, account, media, status, mime_type, size, created_at, updated_at)
                VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)
                """).execute(arguments: [messageId, account.key, try ContentCoding.encode(media), media.mimeType, media.size, now, now])
            try JobWriter(db: db, now: now).enqueue(.media, account: account.key, subjectId: db.lastInsertedRowID)
            result.events.append(.followUpQueued)
        }
        result.events.append(.messageReceived(ticketId: ticketId, messageId: messageId))
    }

    struct IdentityRow {
        var id: Int64
        var contactId: Int64
    }

    /// What a customer's message leaves on their identity: when they last wrote (the platforms'
    /// reply windows) and the reply token it carried (LINE).
    struct Inbound {
        var at: Int64
        var replyToken: String?
    }

    /// An identity as found: its contact and the name it had.
    private struct FoundIdentity {
        var row: IdentityRow
        var displayName: String?
    }

    /// The sender's identity with `inbound` written on it, or nil when it is new. Found, then
    /// written by its id: an `UPDATE … RETURNING` would do both in one statement, but SQLite runs
    /// RETURNING as a trigger and so keeps a statement journal for it (a copy of each page it
    /// changes, in a 64 KiB buffer allocated and freed each time), which cost more than the lookup.
    private func existingIdentity(_ sender: Sender, writing inbound: Inbound?) throws -> FoundIdentity? {
        let select = try DirectStatement(db, "SELECT id, contact_id, display_name FROM identities WHERE account = ? AND platform_user_id = ?", account.key, sender.id)
        guard let found = try select.first({ FoundIdentity(row: IdentityRow(id: $0.int64(0), contactId: $0.int64(1)), displayName: $0.string(2)) })
        else { return nil }
        if let inbound {
            try DirectStatement(
                db, """
                    UPDATE identities SET last_inbound_at = max(coalesce(last_inbound_at, 0), ?),
                        reply_token = coalesce(?, reply_token), reply_token_at = CASE WHEN ? IS NULL THEN reply_token_at ELSE ? END
                    WHERE id = ?
                    """,
                inbound.at, inbound.replyToken, inbound.replyToken, inbound.at, found.row.id
            ).run()
        }
        return found
    }

    /// Finds or creates the contact and its identity on this account, writing `inbound` on it;
    /// keeps the platform's name fresh.
    private func upsertIdentity(_ sender: Sender, writing inbound: Inbound? = nil, into result: inout IngestResult) throws -> IdentityRow {
        if let found = try existingIdentity(sender, writing: inbound) {
            let identity = found.row
            if let name = sender.displayName, name != found.displayName {
                try db.cachedStatement(sql: "UPDATE identities SET display_name = ? WHERE id = ?").execute(arguments: [name, identity.id])
                try db.cachedStatement(sql: "UPDATE contacts SET display_name = ?, updated_at = ? WHERE id = ?")
                    .execute(arguments: [name, now, identity.contactId])
            }
            return identity
        }
        let contactId: Int64
        if let phone = sender.phone, !phone.isEmpty,
            let existing = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT contact_id FROM identities WHERE phone = ? ORDER BY id LIMIT 1"), arguments: [phone])
        {
            // The same phone number on another channel (WhatsApp, SMS) is the same customer.
            contactId = existing
        } else if account.kind == .email,
            let existing = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM contacts WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT 1"), arguments: [sender.id])
        {
            // Mail from a contact's address (set by an agent, an import, or a visitor who confirmed it) is theirs.
            contactId = existing
        } else {
            try db.cachedStatement(sql: "INSERT INTO contacts (display_name, email, created_at, updated_at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [sender.displayName, account.kind == .email ? sender.id : nil, now, now])
            contactId = db.lastInsertedRowID
        }
        try db.cachedStatement(sql: """
            INSERT INTO identities (contact_id, account, channel, platform_user_id, display_name, phone, created_at,
                last_inbound_at, reply_token, reply_token_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                contactId, account.key, account.kind.rawValue, sender.id, sender.displayName, sender.phone, now,
                inbound?.at, inbound?.replyToken, inbound?.replyToken == nil ? nil : inbound?.at,
            ])
        let identityId = db.lastInsertedRowID
        if sender.displayName == nil {
            try JobWriter(db: db, now: now).enqueue(.profile, account: account.key, subjectId: identityId)
            result.events.append(.followUpQueued)
        }
        return IdentityRow(id: identityId, contactId: contactId)
    }

    /// A new ticket; `subject` is the conversation's (e-mail), which the replies carry.
    private func openTicket(contactId: Int64, identityId: Int64, subject: String? = nil, into result: inout IngestResult) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at, queued_at, screened, department_id, subject)
            VALUES (?, 'new', ?, ?, ?, ?, (SELECT NOT trained FROM spam_state WHERE id = 1), \(Schema.newTicketDepartment), ?)
            """).execute(arguments: [contactId, identityId, now, now, now, account.key, subject])
        let id = db.lastInsertedRowID
        result.events.append(.ticketOpened(ticketId: id))
        return id
    }

    /// E-mail: the ticket of the nearest message on this account that the mail answers, else the
    /// ticket its subject token names; reopened if it waited, was resolved or closed (a merged
    /// ticket's survivor instead). A mail that answers nothing is a new conversation: a new ticket.
    /// Only the sender's own tickets: someone Cc'd or forwarded into a conversation who answers it
    /// opens a ticket of their own, else they would take it over (the agent's next reply would go
    /// to them), and anyone can type a ticket number.
    private func threadTicket(_ thread: MessageThread, contactId: Int64, identityId: Int64, into result: inout IngestResult) throws -> Int64 {
        var found: Int64?
        for reference in thread.references.prefix(MessageThread.referencesConsidered) where found == nil {
            found = try Int64.fetchOne(
                db.cachedStatement(sql: """
                    SELECT m.ticket_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
                    WHERE m.account = ? AND m.platform_message_id = ? AND t.contact_id = ? ORDER BY m.id DESC LIMIT 1
                    """),
                arguments: [account.key, reference, contactId])
        }
        if found == nil, let number = thread.ticketNumber {
            found = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM tickets WHERE id = ? AND contact_id = ?"), arguments: [number, contactId])
        }
        guard let found,
            let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT t.id, t.status, t.last_identity_id FROM tickets t WHERE t.id = (SELECT coalesce(merged_into, id) FROM tickets WHERE id = ?)
                    """),
                arguments: [found])
        else { return try openTicket(contactId: contactId, identityId: identityId, subject: thread.subject, into: &result) }
        let id: Int64 = row["id"]
        try touch(
            id, reopening: (TicketStatus(rawValue: row["status"]) ?? .open).waitsOrEnded, identityId: identityId,
            lastIdentityId: row["last_identity_id"], into: &result)
        return id
    }

    /// The contact's current ticket: the newest that is not closed (read in `tickets_contact_current`'s
    /// order: every customer message asks it, v39).
    static let currentTicketSQL = "SELECT id, status, last_identity_id FROM tickets WHERE contact_id = ? AND status != 'closed' ORDER BY id DESC LIMIT 1"

    /// The contact's current ticket, reopened if it waited on the customer, or a new one.
    private func route(contactId: Int64, identityId: Int64, into result: inout IngestResult) throws -> Int64 {
        let select = try DirectStatement(db, Self.currentTicketSQL, contactId)
        guard let (id, status, lastIdentityId) = try select.first({ ($0.int64(0), TicketStatus(rawValue: $0.string(1) ?? "") ?? .open, $0.int64(2)) })
        else { return try openTicket(contactId: contactId, identityId: identityId, into: &result) }
        try touch(id, reopening: status == .pending || status == .resolved, identityId: identityId, lastIdentityId: lastIdentityId, into: &result)
        return id
    }

    /// The customer wrote in ticket `id` from `identityId`: it is reopened when `reopening`, else
    /// only touched. Only the columns that change: SQLite rewrites the entries of every index on a
    /// column the UPDATE sets, even to the same value (status is in three of the ticket indexes);
    /// and `last_identity_id` is a foreign key, which SQLite checks whenever it is set and which
    /// makes it keep a statement journal (a copy of every page the UPDATE changes), so it is set
    /// only when the customer wrote from another of their identities.
    private func touch(_ id: Int64, reopening: Bool, identityId: Int64, lastIdentityId: Int64, into result: inout IngestResult) throws {
        if reopening {
            try db.cachedStatement(sql: "UPDATE tickets SET updated_at = ?, last_identity_id = ?, status = 'open', resolved_at = NULL WHERE id = ?")
                .execute(arguments: [now, identityId, id])
            result.events.append(.ticketStatusChanged(ticketId: id, status: .open))
        } else if identityId != lastIdentityId {
            try DirectStatement(db, "UPDATE tickets SET updated_at = ?, last_identity_id = ? WHERE id = ?", now, identityId, id).run()
        } else {
            try DirectStatement(db, "UPDATE tickets SET updated_at = ? WHERE id = ?", now, id).run()
        }
    }
}

/// Applies delivery receipts: states only move forward; a receipt for a message whose send has not
/// been recorded yet is kept and applied when it is.
struct ReceiptWriter {
    let db: Database
    let account: ChannelAccountRef
    let now: Int64

    func apply(_ receipt: DeliveryReceipt, into events: inout [InboxEvent]) throws {
        guard let messageId = receipt.messageId else { return }
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT id, status FROM messages WHERE account = ? AND platform_message_id = ? AND direction = 'out'"),
            arguments: [account.key, messageId])
        guard !rows.isEmpty else {
            if try applyToCampaign(receipt, platformMessageId: messageId) { return }
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO pending_receipts (account, platform_message_id, status, error_code, error_message, received_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [account.key, messageId, receipt.status.rawValue, receipt.errorCode, receipt.errorMessage, now])
            return
        }
        try advance(rows, to: receipt.status, errorCode: receipt.errorCode, errorMessage: receipt.errorMessage, into: &events)
    }

    /// A receipt for a campaign message moves its recipient forward (sent → delivered → read, or
    /// failed with the platform's reason). Returns whether it was one.
    private func applyToCampaign(_ receipt: DeliveryReceipt, platformMessageId: String) throws -> Bool {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, status FROM campaign_recipients WHERE account = ? AND platform_message_id = ?"),
            arguments: [account.key, platformMessageId])
        else { return false }
        let current = DeliveryStatus(rawValue: row["status"]) ?? .sent
        if receipt.status.rank > current.rank {
            try db.cachedStatement(sql: "UPDATE campaign_recipients SET status = ?, reason = coalesce(?, reason), updated_at = ? WHERE id = ?")
                .execute(arguments: [receipt.status.rawValue, receipt.errorMessage.map { "\(receipt.errorCode ?? "failed"): \($0)" }, now, row["id"] as Int64])
        }
        return true
    }

    /// Moves every sent message to `customer` created at or before `upTo` forward to `status`.
    func applyWatermark(_ status: DeliveryStatus, upTo: Int64, customer: String, into events: inout [InboxEvent]) throws {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT m.id, m.status FROM messages m JOIN identities i ON i.id = m.identity_id
                WHERE i.account = ? AND i.platform_user_id = ? AND m.direction = 'out' AND m.created_at <= ?
                    AND m.status IN ('sent', 'delivered')
                """),
            arguments: [account.key, customer, upTo])
        try advance(rows, to: status, errorCode: nil, errorMessage: nil, into: &events)
    }

    private func advance(_ rows: [Row], to status: DeliveryStatus, errorCode: String?, errorMessage: String?, into events: inout [InboxEvent]) throws {
        for row in rows {
            let current = DeliveryStatus(rawValue: row["status"]) ?? .queued
            guard status.rank > current.rank else { continue }
            let id: Int64 = row["id"]
            try db.cachedStatement(sql: """
                UPDATE messages SET status = ?, failure_code = coalesce(?, failure_code), failure_reason = coalesce(?, failure_reason),
                    updated_at = ? WHERE id = ?
                """).execute(arguments: [status.rawValue, errorCode, errorMessage, now, id])
            events.append(.messageStatusChanged(messageId: id, status: status))
        }
    }

    /// Applies receipts that arrived before the send was recorded.
    func applyPending(platformMessageId: String, into events: inout [InboxEvent]) throws {
        let rows = try Row.fetchAll(
            db, sql: "SELECT status, error_code, error_message FROM pending_receipts WHERE account = ? AND platform_message_id = ?",
            arguments: [account.key, platformMessageId])
        for row in rows {
            guard let status = DeliveryStatus(rawValue: row["status"]) else { continue }
            try apply(
                DeliveryReceipt(messageId: platformMessageId, status: status, errorCode: row["error_code"], errorMessage: row["error_message"]),
                into: &events)
        }
        try db.execute(
            sql: "DELETE FROM pending_receipts WHERE account = ? AND platform_message_id = ?", arguments: [account.key, platformMessageId])
    }
}
