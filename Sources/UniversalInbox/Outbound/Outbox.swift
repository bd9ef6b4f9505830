import ChannelKit
import Foundation
import GRDB

/// A leased outbound message with everything its adapter needs to send it.
public struct OutboundJob: Sendable, Equatable {
    /// The outbox row's lease; a report on the job presents it.
    public var lease: Lease
    public var id: Int64 { lease.id }
    public var messageId: Int64
    public var ticketId: Int64
    public var account: String
    /// Attempts made before this one.
    public var attempts: Int
    public var message: OutboundMessage
}

/// Who a reply goes to and what the channel's rules need to know, checked before it is queued.
public struct ReplyTarget: Sendable {
    public var account: String
    public var message: OutboundMessage
}

extension Inbox {
    /// Queues an agent's reply on the channel the customer last wrote on: the message row and its
    /// outbox job in one transaction. `vet` sees the would-be message first and may refuse it
    /// (a channel's window rules); then nothing is written. With `expectedVersion` (the newest
    /// message id the agent saw), a ticket that got newer messages meanwhile is a `ticket_changed`
    /// conflict: two agents answering at once, one of them is told.
    public func queueReply(
        ticketId: Int64, content: MessageContent, channel: String? = nil, author: String? = nil, by actor: Caller = .system,
        expectedVersion: Int64? = nil, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> StoredMessage {
        let now = clock()
        let author = author ?? actor.agentId.map { "agent:\($0)" }
        let messageId: Int64 = try await database.pool.write { db in
            try Self.authorize(db, actor, ticketId: ticketId, for: .answer)
            if let expectedVersion,
                let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM messages WHERE ticket_id = ?", arguments: [ticketId]),
                newest > expectedVersion
            {
                throw InboxError.conflict(
                    code: "ticket_changed", message: "ticket \(ticketId) has messages newer than version \(expectedVersion); read them, or send with force")
            }
            let id = try Self.insertReply(db, ticketId: ticketId, content: content, channel: channel, author: author, now: now, vet: vet)
            try Self.draftSent(db, ticketId: ticketId, mode: .reply, by: actor)
            return id
        }
        bus.publish([.messageQueued(ticketId: ticketId, messageId: messageId)])
        guard let message = try await message(id: messageId) else { throw InboxError.notFound("message \(messageId)") }
        return message
    }

    /// Writes an outbound message and its outbox job inside the caller's transaction; returns the message id.
    static func insertReply(
        _ db: Database, ticketId: Int64, content: MessageContent, channel: String?, author: String?, now: Date,
        vet: (ReplyTarget) -> SendError?
    ) throws -> Int64 {
        guard let ticket = try Row.fetchOne(db, sql: "SELECT status, last_identity_id FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        let status = TicketStatus(rawValue: ticket["status"]) ?? .open
        if status == .closed {
            throw InboxError.conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed; a new message from the customer opens a new ticket")
        }
        let identity: Row
        if let channel {
            // The agent chose another of the contact's channels: its most recently used identity.
            guard let chosen = try Row.fetchOne(db, sql: """
                SELECT i.* FROM identities i JOIN tickets t ON t.contact_id = i.contact_id
                WHERE t.id = ? AND i.channel = ? ORDER BY coalesce(i.last_inbound_at, 0) DESC, i.id DESC LIMIT 1
                """, arguments: [ticketId, channel])
            else {
                throw InboxError.unprocessable(code: "no_such_channel", message: "the customer of ticket \(ticketId) has no \(channel) identity")
            }
            identity = chosen
        } else {
            let lastId: Int64 = ticket["last_identity_id"]
            guard let last = try Row.fetchOne(db, sql: "SELECT * FROM identities WHERE id = ?", arguments: [lastId]) else {
                throw InboxError.notFound("identity \(lastId)")
            }
            identity = last
        }
        let identityId: Int64 = identity["id"]
        let key = UUID().uuidString.lowercased()
        if let refusal = vet(Self.replyTarget(identity, key: key, content: content, now: now)) { throw InboxError.refused(refusal) }
        let account: String = identity["account"]
        try db.execute(sql: """
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status,
                idempotency_key, author, created_at, updated_at)
            VALUES (?, ?, 'out', ?, ?, ?, ?, 'queued', ?, ?, ?, ?)
            """, arguments: [
                ticketId, identityId, identity["channel"] as String, account, try ContentCoding.encode(content), content.summary,
                key, author, now.ms, now.ms,
            ])
        let id = db.lastInsertedRowID
        try Self.enqueue(db, messageId: id, ticketId: ticketId, account: account, at: now)
        try db.execute(sql: """
            UPDATE tickets SET updated_at = ?, status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE id = ?
            """, arguments: [now.ms, ticketId])
        return id
    }

    /// What the channel's rules are asked about before a message to `identity` is queued.
    static func replyTarget(_ identity: Row, key: String, content: MessageContent, now: Date) -> ReplyTarget {
        ReplyTarget(
            account: identity["account"],
            message: OutboundMessage(id: key, recipient: identity["platform_user_id"], content: content, context: Self.context(identity, now: now)))
    }

    /// Puts a queued message in the outbox for the dispatcher, due at once.
    static func enqueue(_ db: Database, messageId: Int64, ticketId: Int64, account: String, at now: Date) throws {
        try db.execute(
            sql: "INSERT INTO outbox (message_id, ticket_id, account, next_attempt_at) VALUES (?, ?, ?, ?)",
            arguments: [messageId, ticketId, account, now.ms])
    }

    /// Tells the customer of a queued ticket their place and the expected wait, once per ticket.
    /// `text` gets `{{position}}` and `{{wait}}` (minutes) filled in. Returns whether a message was queued.
    @discardableResult
    public func sendQueueNotice(ticketId: Int64, text: String, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Bool {
        try await sendAutomaticReply(ticketId: ticketId, kind: "queue_notice", vet: vet) { db in
            guard let place = try Self.queuePlace(db, ticketId: ticketId) else { return nil }
            let filled = TemplateText.fill(text, ["position": String(place.position), "wait": String(place.waitMinutes)])
            return (filled, ["position": String(place.position), "waitMinutes": String(place.waitMinutes)])
        }
    }

    /// Sends the bridge's own message on a ticket at most once per `kind` (a queue notice, an
    /// acknowledgement, an out-of-hours reply): the history entry and the message commit together.
    /// `compose` returns the text and history details, or nil to send nothing. A refusal by the
    /// channel's rules (a closed window) is recorded as `<kind>_not_sent`.
    @discardableResult
    func sendAutomaticReply(
        ticketId: Int64, kind: String, vet: @escaping @Sendable (ReplyTarget) -> SendError?,
        compose: @escaping @Sendable (Database) throws -> (text: String, detail: [String: String])?
    ) async throws -> Bool {
        let now = clock()
        let messageId: Int64? = try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM ticket_events WHERE ticket_id = ? AND kind IN (?, ?)", arguments: [ticketId, kind, kind + "_not_sent"]) == nil,
                let (text, detail) = try compose(db)
            else { return nil }
            do {
                let id = try Self.insertReply(db, ticketId: ticketId, content: .text(text), channel: nil, author: "system", now: now, vet: vet)
                try Self.record(db, ticketId: ticketId, kind, by: Caller.system.label, detail, at: now.ms)
                return id
            } catch InboxError.refused(let refusal) {
                try Self.record(db, ticketId: ticketId, kind + "_not_sent", by: Caller.system.label, ["reason": refusal.reason], at: now.ms)
                return nil
            }
        }
        guard let messageId else { return false }
        bus.publish([.messageQueued(ticketId: ticketId, messageId: messageId)])
        return true
    }

    static func context(_ identity: Row, now: Date) -> ConversationContext {
        ConversationContext(
            lastInboundAt: (identity["last_inbound_at"] as Int64?).map { Date(ms: $0) },
            replyToken: identity["reply_token"], replyTokenIssuedAt: (identity["reply_token_at"] as Int64?).map { Date(ms: $0) },
            recipientBlocked: identity["blocked"] as Bool? ?? false, now: now)
    }

    /// Leases due outbound jobs (`LeaseQueue.outbox`: at most one per ticket, the oldest, so each
    /// conversation's messages leave in order). A LINE reply token handed out here is taken off the
    /// identity: it is single-use.
    public func claimOutbound(limit: Int, lease: TimeInterval) async throws -> [OutboundJob] {
        try await claim(.outbox, limit: limit, lease: lease) { db, leases, now in
            try Self.rows(db, for: leases, sql: """
                SELECT o.id AS lease_id, o.message_id, o.ticket_id, o.account AS job_account, o.attempts,
                    m.content, m.idempotency_key, i.*
                FROM outbox o
                JOIN messages m ON m.id = o.message_id
                JOIN identities i ON i.id = m.identity_id
                WHERE o.id IN ({ids})
                """
            ).map { lease, row in
                if row["reply_token"] as String? != nil {
                    try db.execute(sql: "UPDATE identities SET reply_token = NULL, reply_token_at = NULL WHERE id = ?", arguments: [row["id"] as Int64])
                }
                return OutboundJob(
                    lease: lease, messageId: row["message_id"], ticketId: row["ticket_id"], account: row["job_account"], attempts: row["attempts"],
                    message: OutboundMessage(
                        id: row["idempotency_key"], recipient: row["platform_user_id"],
                        content: try ContentCoding.decode(MessageContent.self, row["content"]),
                        context: Self.context(row, now: now)))
            }
        }
    }

    /// Records an accepted send and applies any receipt that arrived before it. The send is a fact
    /// and is recorded even when the job's lease ran out and another worker claimed it since; the
    /// outbox row is then left to that worker (`LeaseLost` is thrown after the commit).
    public func outboundSent(_ job: OutboundJob, receipt: SendReceipt) async throws {
        let now = clock().ms
        let (events, lost): ([InboxEvent], LeaseLost?) = try await database.pool.write { db in
            var events: [InboxEvent] = [.messageStatusChanged(messageId: job.messageId, status: .sent)]
            try db.execute(
                sql: """
                    UPDATE messages SET status = 'sent', platform_message_id = ?, segments = ?, segment_encoding = ?, updated_at = ?
                    WHERE id = ? AND status = 'queued'
                    """,
                arguments: [receipt.platformMessageId, receipt.segments?.count, receipt.segments?.encoding, now, job.messageId])
            var lost: LeaseLost?
            do { try LeaseQueue.outbox.complete(db, job.lease) } catch let error as LeaseLost { lost = error }
            if let platformId = receipt.platformMessageId, let account = Self.accountRef(job.account) {
                try ReceiptWriter(db: db, account: account, now: now).applyPending(platformMessageId: platformId, into: &events)
            }
            return (events, lost)
        }
        bus.publish(events)
        if let lost { throw lost }
    }

    /// Marks a message failed for good with the platform's reason (one that was sent meanwhile stays sent).
    public func outboundFailed(_ job: OutboundJob, error: SendError) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            try LeaseQueue.outbox.complete(db, job.lease)
            try db.execute(
                sql: "UPDATE messages SET status = 'failed', failure_code = ?, failure_reason = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
                arguments: [error.code, error.reason, now, job.messageId])
        }
        bus.publish([.messageStatusChanged(messageId: job.messageId, status: .failed)])
    }

    /// Schedules another attempt; later messages of the same ticket wait behind it.
    public func retryOutbound(_ job: OutboundJob, at next: Date, error: SendError) async throws {
        try await database.pool.write { db in
            try LeaseQueue.outbox.reschedule(db, job.lease, at: next.ms, error: error.description)
        }
    }

    /// Messages waiting to be sent.
    public func outboxDepth() async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 }
    }


    static func accountRef(_ key: String) -> ChannelAccountRef? {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = ChannelKind(rawValue: parts[0]) else { return nil }
        return ChannelAccountRef(kind: kind, id: parts[1])
    }
}
