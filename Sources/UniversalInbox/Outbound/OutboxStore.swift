import ChannelKit
import Foundation
import GRDB

/// Where replies wait to be sent (`LeaseQueue.outbox`) and what a send records on its message.
/// One implementation per database (`SQLiteOutboxStore` below, `PostgresOutboxStore` in
/// PostgresStore), held to one contract (Tests/StoreTests). Each method is one transaction with no
/// policy: the domain (`Inbox.queueReply`, ...) passes in who may act (`check`, which calls
/// `Caller.check` on the ticket's place inside the transaction, so the check and the write commit
/// together) and the channel's rules (`vet`), and publishes on the bus. Times are passed in.
///
/// **Order per ticket.** A ticket's replies leave in the order they were queued, one in flight at a
/// time (`LeaseQueue.oneAtATimePer`), which needs a ticket's outbox ids to be given in commit order:
/// SQLite's single writer does that; on PostgreSQL queueing (and re-queueing) locks the ticket's
/// row before it takes the ids.
/// Who may act on a ticket, asked inside a store's transaction with the ticket's id and place
/// (the domain passes `Caller.check`); it throws to refuse.
public typealias TicketCheck = @Sendable (_ ticketId: Int64, _ places: [TicketPlace]) throws -> Void

public protocol OutboxStore: Sendable {
    /// Writes an outbound message and its outbox row (due at `reply.now`), moves a new ticket to
    /// open and uses up the author's reply draft. Refuses, changing nothing: `notFound` (no
    /// ticket), what `check` throws, `ticket_changed` (messages newer than `expectedVersion`),
    /// `ticket_closed`, `no_such_channel`, and `refused` when `vet` returns a refusal. Returns the
    /// message id.
    func queueReply(
        _ reply: NewReply, check: @escaping TicketCheck, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64

    /// Puts a failed outbound message back in the outbox (status `queued`, same idempotency key).
    /// Refuses, changing nothing: `notFound` (no message), what `check` throws, `not_failed`,
    /// `ticket_closed`, `refused`. Returns the message's ticket id.
    func requeueFailed(
        messageId: Int64, at now: Date, check: @escaping TicketCheck,
        vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64

    /// Leases up to `limit` due replies for `lease` seconds (the oldest of each ticket only), with
    /// what the adapter needs; a reply token handed out is taken off the identity (single-use).
    func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [OutboundJob]

    /// Records an accepted send (`sent`, unless the message has moved on) and applies receipts that
    /// arrived before it. The send is recorded even when the lease was lost; the outbox row is then
    /// left to its new holder and `SentRecord.leaseLost` says so.
    func markSent(_ job: OutboundJob, receipt: SendReceipt, at now: Date) async throws -> SentRecord

    /// Takes the job out of the outbox and marks its message failed (a sent one stays sent).
    /// `LeaseLost`, changing nothing, if another worker has claimed it since.
    func markFailed(_ job: OutboundJob, error: SendError, at now: Date) async throws

    /// Another attempt at `next`; later replies of the ticket wait behind it. `LeaseLost` as above.
    func reschedule(_ job: OutboundJob, at next: Date, error: SendError) async throws

    /// Replies waiting to be sent.
    func depth() async throws -> Int

    /// The channels a ticket's contact is on, oldest identity first, with when the customer last
    /// wrote on each (what the reply windows are worked out from). None for no such ticket.
    func replyChannels(ticketId: Int64) async throws -> [ReplyChannel]

    /// Queues the bridge's own message on a ticket (`reply.kind`), at most once per ticket and kind:
    /// the message and its history entry (`<kind>`, with `reply.detail`) commit together, and a
    /// refusal by `vet` is recorded instead as `<kind>_not_sent` (with its reason). A queue notice
    /// goes only to a ticket still waiting in the queue. Returns the message id, or nil when
    /// nothing was queued. `notFound` for no such ticket, `ticket_closed` for a closed one.
    func sendAutomaticReply(_ reply: AutomaticReply, now: Date, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int64?
}

/// One of the bridge's own messages to a customer (`OutboxStore.sendAutomaticReply`), its text
/// already filled in by the domain.
public struct AutomaticReply: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The customer's place in the queue and the expected wait.
        case queueNotice = "queue_notice"
        /// The business hours' acknowledgement of a new ticket.
        case acknowledgement
        /// The business hours' reply to a ticket opened outside them.
        case outOfHoursReply = "out_of_hours_reply"
    }

    public var ticketId: Int64
    public var kind: Kind
    public var text: String
    /// What the history entry records besides the kind.
    public var detail: [String: String]

    public init(ticketId: Int64, kind: Kind, text: String, detail: [String: String] = [:]) {
        self.ticketId = ticketId
        self.kind = kind
        self.text = text
        self.detail = detail
    }

    /// The history kind recorded when the channel's rules refused it.
    public var notSentKind: String { kind.rawValue + "_not_sent" }
}

/// A reply to queue (`OutboxStore.queueReply`).
public struct NewReply: Sendable {
    public var ticketId: Int64
    public var content: MessageContent
    /// A channel kind of the contact's to answer on (its most recently used identity there); nil
    /// for the identity the customer last wrote from.
    public var channel: String?
    public var author: String?
    /// The newest message id the author saw; nil to send regardless.
    public var expectedVersion: Int64?
    /// The agent whose reply draft on the ticket this send uses up.
    public var draftOf: Int64?
    public var now: Date

    public init(
        ticketId: Int64, content: MessageContent, channel: String? = nil, author: String? = nil, expectedVersion: Int64? = nil, draftOf: Int64? = nil,
        now: Date
    ) {
        self.ticketId = ticketId
        self.content = content
        self.channel = channel
        self.author = author
        self.expectedVersion = expectedVersion
        self.draftOf = draftOf
        self.now = now
    }
}

/// What `OutboxStore.markSent` did: the events to publish, and whether the lease had been lost.
public struct SentRecord: Sendable, Equatable {
    public var events: [InboxEvent]
    public var leaseLost: LeaseLost?

    public init(events: [InboxEvent], leaseLost: LeaseLost?) {
        self.events = events
        self.leaseLost = leaseLost
    }
}

/// One of a contact's identities as the reply windows need it.
public struct ReplyChannel: Sendable, Equatable {
    public var channel: String
    public var account: String
    public var lastInboundAt: Date?

    public init(channel: String, account: String, lastInboundAt: Date?) {
        self.channel = channel
        self.account = account
        self.lastInboundAt = lastInboundAt
    }
}

/// An identity's columns a send needs, read the same way on both databases.
package struct OutboxIdentity: Sendable {
    package var id: Int64
    package var account: String
    package var channel: String
    package var platformUserId: String
    package var lastInboundAt: Int64?
    package var replyToken: String?
    package var replyTokenAt: Int64?
    package var blocked: Bool

    package init(
        id: Int64, account: String, channel: String, platformUserId: String, lastInboundAt: Int64?, replyToken: String?, replyTokenAt: Int64?,
        blocked: Bool
    ) {
        self.id = id
        self.account = account
        self.channel = channel
        self.platformUserId = platformUserId
        self.lastInboundAt = lastInboundAt
        self.replyToken = replyToken
        self.replyTokenAt = replyTokenAt
        self.blocked = blocked
    }

    package func context(now: Date) -> ConversationContext {
        ConversationContext(
            lastInboundAt: lastInboundAt.map { Date(ms: $0) }, replyToken: replyToken, replyTokenIssuedAt: replyTokenAt.map { Date(ms: $0) },
            recipientBlocked: blocked, now: now)
    }

    /// What the channel's rules are asked about before a message to this identity is queued.
    package func target(key: String, content: MessageContent, now: Date) -> ReplyTarget {
        ReplyTarget(account: account, message: OutboundMessage(id: key, recipient: platformUserId, content: content, context: context(now: now)))
    }
}

extension InboxError {
    package static func ticketClosed(_ ticketId: Int64) -> InboxError {
        .conflict(code: "ticket_closed", message: "ticket \(ticketId) is closed; a new message from the customer opens a new ticket")
    }

    package static func ticketChanged(_ ticketId: Int64, version: Int64) -> InboxError {
        .conflict(code: "ticket_changed", message: "ticket \(ticketId) has messages newer than version \(version); read them, or send with force")
    }

    package static func notFailed(_ messageId: Int64) -> InboxError {
        .conflict(code: "not_failed", message: "message \(messageId) is not a failed outbound message; only those are sent again")
    }

    package static func noReplyChannel(ticketId: Int64, channel: String) -> InboxError {
        .unprocessable(code: "no_such_channel", message: "the customer of ticket \(ticketId) has no \(channel) identity")
    }
}

extension MessageContent {
    /// The `messages.content` column's JSON, as both databases store it.
    package func storedJSON() throws -> String { try ContentCoding.encode(self) }

    package init(storedJSON json: String) throws { self = try ContentCoding.decode(MessageContent.self, json) }
}

extension OutboundJob {
    /// The channel account's key as receipts are filed under, if the job's account is well formed.
    package var receiptAccount: String? { Inbox.accountRef(account)?.key }
}

// MARK: - SQLite

/// `OutboxStore` on SQLite. `insertReply` also serves the bridge's own messages written inside
/// other transactions (automatic replies, satisfaction surveys).
public struct SQLiteOutboxStore: OutboxStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func queueReply(
        _ reply: NewReply, check: @escaping TicketCheck, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64 {
        try await database.pool.write { db in
            guard let places = try SQLiteAccessStore.places(db, of: .ticket(reply.ticketId)) else { throw InboxError.notFound("ticket \(reply.ticketId)") }
            try check(reply.ticketId, places)
            if let expected = reply.expectedVersion,
                let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM messages WHERE ticket_id = ?", arguments: [reply.ticketId]),
                newest > expected
            {
                throw InboxError.ticketChanged(reply.ticketId, version: expected)
            }
            let id = try Self.insertReply(
                db, ticketId: reply.ticketId, content: reply.content, channel: reply.channel, author: reply.author, now: reply.now, vet: vet)
            if let agentId = reply.draftOf {
                try SQLiteDraftStore.useUp(db, ticketId: reply.ticketId, agentId: agentId, mode: .reply)
            }
            return id
        }
    }

    /// Writes an outbound message and its outbox row inside the caller's transaction; returns the message id.
    static func insertReply(
        _ db: Database, ticketId: Int64, content: MessageContent, channel: String?, author: String?, now: Date,
        vet: (ReplyTarget) -> SendError?
    ) throws -> Int64 {
        guard let ticket = try Row.fetchOne(db, sql: "SELECT status, last_identity_id FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        if ticket["status"] as String == TicketStatus.closed.rawValue { throw InboxError.ticketClosed(ticketId) }
        let identity: OutboxIdentity
        if let channel {
            // The agent chose another of the contact's channels: its most recently used identity.
            guard let chosen = try Row.fetchOne(db, sql: """
                SELECT i.* FROM identities i JOIN tickets t ON t.contact_id = i.contact_id
                WHERE t.id = ? AND i.channel = ? ORDER BY coalesce(i.last_inbound_at, 0) DESC, i.id DESC LIMIT 1
                """, arguments: [ticketId, channel])
            else {
                throw InboxError.noReplyChannel(ticketId: ticketId, channel: channel)
            }
            identity = Self.identity(chosen)
        } else {
            let lastId: Int64 = ticket["last_identity_id"]
            guard let last = try Row.fetchOne(db, sql: "SELECT * FROM identities WHERE id = ?", arguments: [lastId]) else {
                throw InboxError.notFound("identity \(lastId)")
            }
            identity = Self.identity(last)
        }
        let key = UUID().uuidString.lowercased()
        if let refusal = vet(identity.target(key: key, content: content, now: now)) { throw InboxError.refused(refusal) }
        try db.execute(sql: """
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status,
                idempotency_key, author, created_at, updated_at)
            VALUES (?, ?, 'out', ?, ?, ?, ?, 'queued', ?, ?, ?, ?)
            """, arguments: [
                ticketId, identity.id, identity.channel, identity.account, try ContentCoding.encode(content), content.summary,
                key, author, now.ms, now.ms,
            ])
        let id = db.lastInsertedRowID
        try Self.enqueue(db, messageId: id, ticketId: ticketId, account: identity.account, at: now)
        try db.execute(sql: """
            UPDATE tickets SET updated_at = ?, status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE id = ?
            """, arguments: [now.ms, ticketId])
        return id
    }

    public func requeueFailed(
        messageId: Int64, at now: Date, check: @escaping TicketCheck,
        vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64 {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT m.*, t.status AS ticket_status, t.agent_id AS ticket_agent_id, t.department_id AS ticket_department_id
                FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.id = ?
                """, arguments: [messageId])
            else { throw InboxError.notFound("message \(messageId)") }
            let ticketId: Int64 = row["ticket_id"]
            try check(ticketId, [TicketPlace(agentId: row["ticket_agent_id"], departmentId: row["ticket_department_id"])])
            guard row["direction"] as String == MessageDirection.outbound.rawValue, row["status"] as String == "failed" else {
                throw InboxError.notFailed(messageId)
            }
            if row["ticket_status"] as String == TicketStatus.closed.rawValue { throw InboxError.ticketClosed(ticketId) }
            let identityId: Int64 = row["identity_id"]
            guard let identity = try Row.fetchOne(db, sql: "SELECT * FROM identities WHERE id = ?", arguments: [identityId]) else {
                throw InboxError.notFound("identity \(identityId)")
            }
            let content = try ContentCoding.decode(MessageContent.self, row["content"])
            if let refusal = vet(Self.identity(identity).target(key: row["idempotency_key"], content: content, now: now)) {
                throw InboxError.refused(refusal)
            }
            try db.execute(
                sql: "UPDATE messages SET status = 'queued', failure_code = NULL, failure_reason = NULL, updated_at = ? WHERE id = ?",
                arguments: [now.ms, messageId])
            try Self.enqueue(db, messageId: messageId, ticketId: ticketId, account: row["account"], at: now)
            return ticketId
        }
    }

    /// Puts a queued message in the outbox for the dispatcher, due at once.
    static func enqueue(_ db: Database, messageId: Int64, ticketId: Int64, account: String, at now: Date) throws {
        try db.execute(
            sql: "INSERT INTO outbox (message_id, ticket_id, account, next_attempt_at) VALUES (?, ?, ?, ?)",
            arguments: [messageId, ticketId, account, now.ms])
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [OutboundJob] {
        let queue = LeaseQueue.outbox
        // A read first, so an idle dispatcher's poll costs no write.
        guard try await database.pool.read({ db in try queue.hasReady(db, now: now.ms) }) else { return [] }
        return try await database.pool.write { db in
            let leases = try queue.claim(db, limit: limit, lease: lease, now: now.ms)
            guard !leases.isEmpty else { return [] }
            return try Inbox.rows(db, for: leases, sql: """
                SELECT o.id AS lease_id, o.message_id, o.ticket_id, o.account AS job_account, o.attempts,
                    m.content, m.idempotency_key, m.author, i.*
                FROM outbox o
                JOIN messages m ON m.id = o.message_id
                JOIN identities i ON i.id = m.identity_id
                WHERE o.id IN ({ids})
                """
            ).map { lease, row in
                if row["reply_token"] as String? != nil {
                    try db.execute(sql: "UPDATE identities SET reply_token = NULL, reply_token_at = NULL WHERE id = ?", arguments: [row["id"] as Int64])
                }
                let account: String = row["job_account"]
                let ticketId: Int64 = row["ticket_id"]
                let threaded = Inbox.accountRef(account)?.kind.threadsReplies == true
                return OutboundJob(
                    lease: lease, messageId: row["message_id"], ticketId: ticketId, account: account, attempts: row["attempts"],
                    message: OutboundMessage(
                        id: row["idempotency_key"], recipient: row["platform_user_id"],
                        content: try ContentCoding.decode(MessageContent.self, row["content"]),
                        context: Self.identity(row).context(now: now),
                        thread: threaded ? try MessageThread.ofReply(ticketId: ticketId, account: account, db) : nil,
                        automatic: Inbox.isAutomatic(author: row["author"])))
            }
        }
    }

    public func markSent(_ job: OutboundJob, receipt: SendReceipt, at now: Date) async throws -> SentRecord {
        try await database.pool.write { db in
            var events: [InboxEvent] = [.messageStatusChanged(messageId: job.messageId, status: .sent)]
            try db.execute(
                sql: """
                    UPDATE messages SET status = 'sent', platform_message_id = ?, segments = ?, segment_encoding = ?, updated_at = ?
                    WHERE id = ? AND status = 'queued'
                    """,
                arguments: [receipt.platformMessageId, receipt.segments?.count, receipt.segments?.encoding, now.ms, job.messageId])
            var lost: LeaseLost?
            do { try LeaseQueue.outbox.complete(db, job.lease) } catch let error as LeaseLost { lost = error }
            if let platformId = receipt.platformMessageId, let account = Inbox.accountRef(job.account) {
                try ReceiptWriter(db: db, account: account, now: now.ms).applyPending(platformMessageId: platformId, into: &events)
            }
            return SentRecord(events: events, leaseLost: lost)
        }
    }

    public func markFailed(_ job: OutboundJob, error: SendError, at now: Date) async throws {
        try await database.pool.write { db in
            try LeaseQueue.outbox.complete(db, job.lease)
            try db.execute(
                sql: "UPDATE messages SET status = 'failed', failure_code = ?, failure_reason = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
                arguments: [error.code, error.reason, now.ms, job.messageId])
        }
    }

    public func reschedule(_ job: OutboundJob, at next: Date, error: SendError) async throws {
        try await database.pool.write { db in
            try LeaseQueue.outbox.reschedule(db, job.lease, at: next.ms, error: error.description)
        }
    }

    public func depth() async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 }
    }

    public func replyChannels(ticketId: Int64) async throws -> [ReplyChannel] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.channel, i.account, i.last_inbound_at FROM identities i JOIN tickets t ON t.contact_id = i.contact_id
                WHERE t.id = ? ORDER BY i.id
                """, arguments: [ticketId]
            ).map { row in
                ReplyChannel(channel: row["channel"], account: row["account"], lastInboundAt: (row["last_inbound_at"] as Int64?).map { Date(ms: $0) })
            }
        }
    }

    /// An `identities` row (or a row with its columns, `id` being the identity's) as a send needs it.
    static func identity(_ row: Row) -> OutboxIdentity {
        OutboxIdentity(
            id: row["id"], account: row["account"], channel: row["channel"], platformUserId: row["platform_user_id"],
            lastInboundAt: row["last_inbound_at"], replyToken: row["reply_token"], replyTokenAt: row["reply_token_at"],
            blocked: row["blocked"] as Bool? ?? false)
    }
}

// MARK: - Automatic replies on SQLite

extension SQLiteOutboxStore {
    public func sendAutomaticReply(_ reply: AutomaticReply, now: Date, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int64? {
        let ticketId = reply.ticketId
        return try await database.pool.write { db in
            guard try Bool.fetchOne(
                db, sql: "SELECT 1 FROM ticket_events WHERE ticket_id = ? AND kind IN (?, ?)", arguments: [ticketId, reply.kind.rawValue, reply.notSentKind]) == nil
            else { return nil }
            if reply.kind == .queueNotice, try Bool.fetchOne(db, sql: """
                SELECT 1 FROM tickets WHERE id = ? AND queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open')
                """, arguments: [ticketId]) == nil {
                return nil
            }
            do {
                let id = try Self.insertReply(db, ticketId: ticketId, content: .text(reply.text), channel: nil, author: "system", now: now, vet: vet)
                try SQLiteTicketStore.record(db, ticketId: ticketId, reply.kind.rawValue, by: Caller.system.label, reply.detail, at: now.ms)
                return id
            } catch InboxError.refused(let refusal) {
                try SQLiteTicketStore.record(db, ticketId: ticketId, reply.notSentKind, by: Caller.system.label, ["reason": refusal.reason], at: now.ms)
                return nil
            }
        }
    }
}
