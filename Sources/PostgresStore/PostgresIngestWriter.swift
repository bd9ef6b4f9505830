import ChannelKit
import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// One webhook's events on PostgreSQL, inside the group's transaction: the twin of SQLite's
/// `IngestWriter` (the same steps and rows; the group's dedupe rows are inserted up front by
/// `claim`), made safe against another process filing the same customer at the same time:
/// - an identity is created with `ON CONFLICT (account, platform_user_id) DO NOTHING`; when another
///   transaction created it first, this one removes the contact it had just made and takes the
///   other's (re-selected once that committed), so a customer has one contact and one identity;
/// - a new identity matched to a contact by phone number takes a transaction advisory lock on the
///   number first, so two channels' first messages from one number find one contact;
/// - routing locks the contact's row (`FOR UPDATE`) before looking for its open ticket, so two
///   processes never both create one. The schema has no unique index on a contact's open ticket,
///   and cannot have one: linking two contacts moves the other's tickets over, so a contact may
///   hold several tickets that are not closed.
/// A group holds `event_seq`'s lock from its start, so ingest transactions already take these steps
/// one at a time; each step is still safe on its own, so correctness does not rest on where the
/// event log takes its lock (Tests/StoreTests' two-process contracts fail without the contact and
/// phone locks when the early `event_seq` lock is taken out).
///
/// A group's customer messages are written in a few statements rather than several per message
/// (`PostgresIngestBatch`): the group's known identities are touched and their contacts locked in
/// one, their ratings and open tickets looked up in one, and consecutive messages are inserted in
/// one. Any other step (a new customer, a ticket opened or reopened, a rating answered, a receipt)
/// first inserts the messages before it, so the log's entries keep the events' order.
final class PostgresIngestWriter {
    let connection: PostgresConnection
    let logger: Logger
    let now: Int64
    /// The account of the webhook being written.
    var account: ChannelAccountRef
    var batch = PostgresIngestBatch()
    /// One result a webhook written so far; their `messageReceived` ids are filled in by `finish`.
    var results: [IngestResult] = []

    init(connection: PostgresConnection, logger: Logger, now: Int64, account: ChannelAccountRef) {
        self.connection = connection
        self.logger = logger
        self.now = now
        self.account = account
    }

    /// An event's dedupe key: the platform's event id on an account.
    struct EventKey: Hashable {
        var account: String
        var eventId: String
    }

    /// Begins writing `webhooks`, in a transaction that holds `event_seq`'s row lock
    /// (`PostgresIngestStore`: the lock the first message's log entry would take anyway, taken
    /// first, so the contact, identity and message rows below are only ever locked by one ingest
    /// transaction at a time and two processes' groups cannot deadlock on them): inserts their
    /// events' dedupe rows in one statement, in one order every process uses (account, then event
    /// id). Answers the keys this transaction inserted.
    static func claim(_ webhooks: [WebhookEvents], now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> Set<EventKey> {
        let keys = webhooks.flatMap { webhook in webhook.events.map { EventKey(account: webhook.account.key, eventId: $0.eventId) } }
        guard !keys.isEmpty else { return [] }
        let rows = try await connection.run(
            IngestStatements.Claim(now: now, accounts: keys.map(\.account), eventIds: keys.map(\.eventId)), logger: logger)
        var claimed: Set<EventKey> = []
        for row in rows {
            let (account, eventId) = try row.decode((String, String).self)
            claimed.insert(EventKey(account: account, eventId: eventId))
        }
        return claimed
    }

    /// Files the webhook's events whose keys are in `claimed` (taking each out: the same event
    /// later in the group is a duplicate) and keeps its unreadable events; its result is
    /// `finish()`'s next.
    func write(_ webhook: WebhookEvents, claimed: inout Set<EventKey>) async throws {
        account = webhook.account
        var result = try await ingest(webhook.events, claimed: &claimed)
        result.unreadable = try await keep(webhook.unreadable)
        results.append(result)
    }

    /// Inserts the messages still waiting and answers each webhook's result, in `write`'s order.
    func finish() async throws -> [IngestResult] {
        var none = IngestResult()
        try await flush(&none)
        return results
    }

    private func ingest(_ events: [InboundEvent], claimed: inout Set<EventKey>) async throws -> IngestResult {
        var result = IngestResult()
        for event in events {
            guard claimed.remove(EventKey(account: account.key, eventId: event.eventId)) != nil else {
                result.duplicates += 1
                continue
            }
            result.stored += 1
            switch event.kind {
            case .message:
                guard let sender = event.sender, let message = event.message else { continue }
                try await appendInbound(message, from: sender, at: event.occurredAt.ms, into: &result)
            case .follow, .unfollow:
                guard let sender = event.sender else { continue }
                try await flush(&result)
                let identity = try await upsertIdentity(sender, into: &result)
                let blocked: Int32 = event.kind == .unfollow ? 1 : 0
                try await run("UPDATE identities SET blocked = \(blocked) WHERE id = \(identity.id)")
            case .receipt:
                guard let receipt = event.receipt else { continue }
                try await flush(&result)
                let writer = PostgresReceiptWriter(connection: connection, logger: logger, account: account, now: now)
                if let upTo = receipt.upTo, let customer = event.sender {
                    try await writer.applyWatermark(receipt.status, upTo: upTo.ms, customer: customer.id, into: &result.events)
                } else {
                    try await writer.apply(receipt, into: &result.events)
                }
            }
        }
        return result
    }

    /// Keeps events the adapter could not read, once per account and body (the newest
    /// `UnreadableEvent.keptPerAccount` per account). Returns how many were new.
    func keep(_ unreadable: [UnreadableEvent]) async throws -> Int {
        var kept = 0
        for event in unreadable {
            let (reason, raw, digest) = event.kept
            if try await int64("""
                INSERT INTO unreadable_events (account, reason, raw, digest, received_at) VALUES (\(account.key), \(reason), \(raw), \(digest), \(now))
                ON CONFLICT (account, digest) DO NOTHING RETURNING 1
                """) != nil
            {
                kept += 1
            }
        }
        if kept > 0 {
            try await run("""
                DELETE FROM unreadable_events WHERE account = \(account.key) AND id <= (
                    SELECT id FROM unreadable_events WHERE account = \(account.key) ORDER BY id DESC LIMIT 1 OFFSET \(Int64(UnreadableEvent.keptPerAccount)))
                """)
        }
        return kept
    }

    /// A customer's message. When the group's first statements found its identity (the usual
    /// case) the message only joins the batch to insert; otherwise the steps go one statement at
    /// a time, as they would alone. Either way the contact's row is locked (one process at a time
    /// answers its rating request or routes its message) before its ticket is looked up.
    private func appendInbound(_ message: InboundMessage, from sender: Sender, at occurredAt: Int64, into result: inout IngestResult) async throws {
        let key = PostgresIngestBatch.SenderKey(account: account.key, userId: sender.id)
        let identity: IdentityRow
        // The ticket a new customer's first message opened.
        var opened: Int64?
        if let known = batch.identities[key] {
            identity = known.row
            if let name = sender.displayName, name != known.name {
                try await flush(&result)
                try await run("UPDATE contacts SET display_name = \(name), updated_at = \(now) WHERE id = \(identity.contactId)")
                batch.identities[key]?.name = name
            }
        } else if message.thread == nil, let first = try await firstContact(sender, at: occurredAt, replyToken: message.replyToken, into: &result) {
            (identity, opened) = first
        } else {
            try await flush(&result)
            identity = try await upsertIdentity(sender, into: &result)
            try await run("""
                UPDATE identities SET last_inbound_at = greatest(coalesce(last_inbound_at, 0), \(occurredAt)),
                    reply_token = coalesce(\(message.replyToken)::text, reply_token),
                    reply_token_at = CASE WHEN \(message.replyToken)::text IS NULL THEN reply_token_at ELSE \(occurredAt) END
                WHERE id = \(identity.id)
                """)
            try await run("SELECT 1 FROM contacts WHERE id = \(identity.contactId) FOR UPDATE")
        }
        if batch.routes[identity.contactId] == nil {
            batch.routes.merge(try await PostgresIngestBatch.routes(of: [identity.contactId], on: connection, logger: logger)) { $1 }
        }
        var route = batch.routes[identity.contactId] ?? PostgresIngestBatch.Route()
        let content = message.content
        let ticketId: Int64
        var touch = false
        if let opened {
            ticketId = opened
        } else if let pending = route.rating, let rating = try Rating(answering: content, choices: pending.choices) {
            try await flush(&result)
            try await record(rating, on: pending.ticketId)
            route.rating = nil
            ticketId = pending.ticketId
        } else if let thread = message.thread {
            // Earlier messages of the group must be in the table for their ids to be found.
            try await flush(&result)
            ticketId = try await threadTicket(thread, contactId: identity.contactId, identityId: identity.id, into: &result)
            route.ticket = try await ticketState(ticketId)
        } else if let current = route.ticket {
            ticketId = current.id
            let status = TicketStatus(rawValue: current.status) ?? .open
            if status == .pending || status == .resolved {
                try await flush(&result)
                try await run("UPDATE tickets SET updated_at = \(now), last_identity_id = \(identity.id), status = 'open', resolved_at = NULL WHERE id = \(current.id)")
                result.events.append(.ticketStatusChanged(ticketId: current.id, status: .open))
                route.ticket?.status = TicketStatus.open.rawValue
            } else {
                touch = true
            }
        } else {
            try await flush(&result)
            ticketId = try await openTicket(contactId: identity.contactId, identityId: identity.id, into: &result)
            route.ticket = (ticketId, TicketStatus.new.rawValue)
        }
        batch.routes[identity.contactId] = route
        let row = PostgresIngestBatch.MessageRow(
            ticketId: ticketId, identityId: identity.id, channel: account.kind.rawValue, account: account.key,
            content: try ContentCoding.encode(content), text: content.summary, platformMessageId: message.id,
            idempotencyKey: MessageKey.random(), createdAt: occurredAt, touchesTicket: touch)
        guard let media = content.media, content.needsDownload else {
            // Filed with the batch; its id is filled in when the batch is inserted.
            batch.pending.append(row)
            batch.slots.append((webhook: results.count, event: result.events.count))
            result.events.append(.messageReceived(ticketId: ticketId, messageId: 0))
            return
        }
        try await flush(&result)
        let messageId = try await batch.insert([row], now: now, on: connection, logger: logger)[0]
        let attachmentId = try await required("""
            INSERT INTO attachments (message_id, account, media, status, mime_type, size, created_at, updated_at)
            VALUES (\(messageId), \(account.key), \(try ContentCoding.encode(media)), 'pending', \(media.mimeType), \(media.size.map(Int64.init)), \(now), \(now))
            RETURNING id
            """)
        try await enqueue(.media, subjectId: attachmentId)
        result.events.append(.followUpQueued)
        result.events.append(.messageReceived(ticketId: ticketId, messageId: messageId))
    }

    /// A new customer's contact and identity in one statement (`IngestStatements.FirstContact`),
    /// then their first ticket, after the messages before them (the log keeps the events' order);
    /// their route is that ticket. Nil for a sender who may already be a customer (any phone
    /// number, even an empty one, which the step-by-step path stores as it came; e-mail) or whose
    /// identity exists: the caller takes the steps one at a time.
    private func firstContact(_ sender: Sender, at occurredAt: Int64, replyToken: String?, into result: inout IngestResult) async throws
        -> (IdentityRow, ticketId: Int64)?
    {
        guard sender.phone == nil, account.kind != .email else { return nil }
        try await flush(&result)
        let statement = IngestStatements.FirstContact(
            now: now, account: account.key, channel: account.kind.rawValue, userId: sender.id, name: sender.displayName,
            inboundAt: occurredAt, replyToken: replyToken)
        guard let row = try await connection.run(statement, logger: logger).first else { throw NoRowReturned() }
        let (contactId, identityId, identityContact) = try row.decode((Int64?, Int64?, Int64?).self)
        guard let identityId, let identityContact else {
            // Another transaction created this identity first: the contact made for it goes.
            if let contactId { try await run("DELETE FROM contacts WHERE id = \(contactId)") }
            return nil
        }
        if sender.displayName == nil { result.events.append(.followUpQueued) }
        let ticketId = try await openTicket(contactId: identityContact, identityId: identityId, into: &result)
        batch.routes[identityContact] = PostgresIngestBatch.Route(rating: nil, ticket: (ticketId, TicketStatus.new.rawValue))
        return (IdentityRow(id: identityId, contactId: identityContact), ticketId)
    }

    /// Inserts the batch's messages and fills in their ids: in `current` for the webhook being
    /// written (which becomes `results`' next), in `results` for those before it.
    private func flush(_ current: inout IngestResult) async throws {
        guard !batch.pending.isEmpty else { return }
        let ids = try await batch.insert(batch.pending, now: now, on: connection, logger: logger)
        for (slot, id) in zip(batch.slots, ids) {
            if slot.webhook == results.count {
                current.events[slot.event] = current.events[slot.event].withMessageId(id)
            } else {
                results[slot.webhook].events[slot.event] = results[slot.webhook].events[slot.event].withMessageId(id)
            }
        }
        batch.pending.removeAll()
        batch.slots.removeAll()
    }

    struct IdentityRow {
        var id: Int64
        var contactId: Int64
    }

    /// Finds or creates the contact and its identity on this account; keeps the platform's name fresh.
    private func upsertIdentity(_ sender: Sender, into result: inout IngestResult) async throws -> IdentityRow {
        if let identity = try await existingIdentity(sender) { return identity }
        var contactId: Int64?
        if let phone = sender.phone, !phone.isEmpty {
            // The same phone number on another channel (WhatsApp, SMS) is the same customer: the
            // number's lock makes a concurrent first message from it wait and then find this contact.
            try await run("SELECT pg_advisory_xact_lock(hashtextextended(\("identity-phone:" + phone), 0))")
            contactId = try await int64("SELECT contact_id FROM identities WHERE phone = \(phone) ORDER BY id LIMIT 1")
        } else if account.kind == .email {
            // Mail from a contact's address (set by an agent, an import, or a visitor who confirmed it) is theirs.
            contactId = try await int64("SELECT id FROM contacts WHERE lower(email) = lower(\(sender.id)) ORDER BY id LIMIT 1")
        }
        let createdContact = contactId == nil
        let contact: Int64
        if let contactId {
            contact = contactId
        } else {
            let email = account.kind == .email ? sender.id : nil
            contact = try await required("""
                INSERT INTO contacts (display_name, email, created_at, updated_at) VALUES (\(sender.displayName), \(email), \(now), \(now)) RETURNING id
                """)
        }
        guard let identityId = try await int64("""
            INSERT INTO identities (contact_id, account, channel, platform_user_id, display_name, phone, created_at)
            VALUES (\(contact), \(account.key), \(account.kind.rawValue), \(sender.id), \(sender.displayName), \(sender.phone), \(now))
            ON CONFLICT (account, platform_user_id) DO NOTHING
            RETURNING id
            """)
        else {
            // Another process filed this customer's first event at the same time and committed
            // first (ON CONFLICT waited for it): its identity and contact are the customer's.
            if createdContact { try await run("DELETE FROM contacts WHERE id = \(contact)") }
            guard let identity = try await existingIdentity(sender) else { throw IdentityVanished(account: account.key) }
            return identity
        }
        if sender.displayName == nil {
            try await enqueue(.profile, subjectId: identityId)
            result.events.append(.followUpQueued)
        }
        return IdentityRow(id: identityId, contactId: contact)
    }

    /// The identity on this account, its name (and its contact's) brought up to the platform's.
    private func existingIdentity(_ sender: Sender) async throws -> IdentityRow? {
        let rows = try await connection.query(
            "SELECT id, contact_id, display_name FROM identities WHERE account = \(account.key) AND platform_user_id = \(sender.id)", logger: logger)
        for try await (id, contactId, displayName) in rows.decode((Int64, Int64, String?).self) {
            if let name = sender.displayName, name != displayName {
                try await run("UPDATE identities SET display_name = \(name) WHERE id = \(id)")
                try await run("UPDATE contacts SET display_name = \(name), updated_at = \(now) WHERE id = \(contactId)")
            }
            return IdentityRow(id: id, contactId: contactId)
        }
        return nil
    }

    /// An identity that conflicted on insert was not there when looked up again: it was removed
    /// in between (a contact link or delete), and the webhook fails rather than guess.
    struct IdentityVanished: Error { let account: String }

    /// Records the customer's rating on the ticket that asked for it (the answer is filed there
    /// without reopening it).
    private func record(_ rating: Rating, on ticketId: Int64) async throws {
        try await run("UPDATE ratings SET rating = \(rating.rawValue), rated_at = \(now) WHERE ticket_id = \(ticketId)")
        try await PostgresTicketHistory.record(ticketId, "rated", by: "customer", ["rating": rating.rawValue], at: now, on: connection, logger: logger)
    }

    /// E-mail: as `IngestWriter.threadTicket` on SQLite: the ticket of the nearest message on this
    /// account the mail answers, else its subject token's ticket, either only when it is this
    /// customer's; reopened if it waited, was resolved or closed (a merged ticket's survivor
    /// instead); else a new ticket.
    private func threadTicket(_ thread: MessageThread, contactId: Int64, identityId: Int64, into result: inout IngestResult) async throws -> Int64 {
        var found: Int64?
        for reference in thread.references.prefix(MessageThread.referencesConsidered) where found == nil {
            found = try await int64("""
                SELECT m.ticket_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
                WHERE m.account = \(account.key) AND m.platform_message_id = \(reference) AND t.contact_id = \(contactId) ORDER BY m.id DESC LIMIT 1
                """)
        }
        if found == nil, let number = thread.ticketNumber {
            found = try await int64("SELECT id FROM tickets WHERE id = \(number) AND contact_id = \(contactId)")
        }
        guard let found, let id = try await int64("SELECT coalesce(merged_into, id) FROM tickets WHERE id = \(found)"),
            let status = try await ticketState(id)?.status
        else { return try await openTicket(contactId: contactId, identityId: identityId, subject: thread.subject, into: &result) }
        if (TicketStatus(rawValue: status) ?? .open).waitsOrEnded {
            try await run("UPDATE tickets SET updated_at = \(now), last_identity_id = \(identityId), status = 'open', resolved_at = NULL WHERE id = \(id)")
            result.events.append(.ticketStatusChanged(ticketId: id, status: .open))
        } else {
            try await run("UPDATE tickets SET updated_at = \(now), last_identity_id = \(identityId) WHERE id = \(id)")
        }
        return id
    }

    private func ticketState(_ id: Int64) async throws -> (id: Int64, status: String)? {
        for try await status in try await connection.query("SELECT status FROM tickets WHERE id = \(id) FOR UPDATE", logger: logger).decode(String.self) {
            return (id, status)
        }
        return nil
    }

    /// A new ticket; `subject` is the conversation's (e-mail), which the replies carry.
    private func openTicket(contactId: Int64, identityId: Int64, subject: String? = nil, into result: inout IngestResult) async throws -> Int64 {
        let id = try await required("""
            INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at, queued_at, screened, department_id, subject)
            VALUES (\(contactId), 'new', \(identityId), \(now), \(now), \(now), (SELECT CASE WHEN trained = 0 THEN 1 ELSE 0 END FROM spam_state WHERE id = 1),
                (SELECT department_id FROM account_departments WHERE account = \(account.key)), \(subject))
            RETURNING id
            """)
        result.events.append(.ticketOpened(ticketId: id))
        return id
    }

    private func enqueue(_ kind: FollowUpKind, subjectId: Int64) async throws {
        try await run("INSERT INTO jobs (kind, account, subject_id, next_attempt_at) VALUES (\(kind.rawValue), \(account.key), \(subjectId), \(now))")
    }

    private func run(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    /// The first column of the first row, if any.
    private func int64(_ query: PostgresQuery) async throws -> Int64? {
        var value: Int64?
        for try await row in try await connection.query(query, logger: logger).decode(Int64.self) where value == nil { value = row }
        return value
    }

    /// The first column of the first row of an `INSERT ... RETURNING id`.
    private func required(_ query: PostgresQuery) async throws -> Int64 {
        guard let value = try await int64(query) else { throw NoRowReturned() }
        return value
    }

    struct NoRowReturned: Error {}
}

extension InboxEvent {
    /// A `messageReceived` event with the message's id filled in (the batch's placeholder had 0).
    fileprivate func withMessageId(_ id: Int64) -> InboxEvent {
        guard case .messageReceived(let ticketId, _) = self else { return self }
        return .messageReceived(ticketId: ticketId, messageId: id)
    }
}
