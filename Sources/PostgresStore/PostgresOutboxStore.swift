import ChannelKit
import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `OutboxStore` on PostgreSQL, for several bridge processes on one database. Claims, reschedules
/// and completions go through the shared lease queue (`PostgresLeaseQueue.swift`,
/// `LeaseQueue.outbox`).
///
/// **Queueing locks the ticket.** A ticket's replies leave in outbox-id order, one at a time,
/// which holds only if a ticket's ids are committed in the order they were taken. Two processes
/// queueing on one ticket could otherwise take ids 10 and 11, commit 11 first, and have 11 claimed
/// and sent before 10 exists. So queueing (and re-queueing a failed message) starts with
/// `SELECT ... FROM tickets WHERE id = $1 FOR UPDATE`, before any id is taken: a ticket's queuers
/// take their ids one after the other, in commit order. Lock order: the event log's counter first
/// (`appendsToLog`, as ingest and every other writer of logged rows take it), then the ticket.
public struct PostgresOutboxStore: OutboxStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func queueReply(
        _ reply: NewReply, check: @escaping TicketCheck, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64 {
        let ticketId = reply.ticketId
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let tickets = try await connection.query(
                "SELECT status, last_identity_id, agent_id, department_id FROM tickets WHERE id = \(ticketId) FOR UPDATE", logger: logger)
            var found: (status: String, lastIdentity: Int64, place: TicketPlace)?
            for try await (status, lastIdentity, agentId, departmentId) in tickets.decode((String, Int64, Int64?, Int64?).self) {
                found = (status, lastIdentity, TicketPlace(agentId: agentId, departmentId: departmentId))
            }
            guard let ticket = found else { throw InboxError.notFound("ticket \(ticketId)") }
            try check(ticketId, [ticket.place])
            if let expected = reply.expectedVersion {
                let rows = try await connection.query("SELECT max(id) FROM messages WHERE ticket_id = \(ticketId)", logger: logger)
                for try await newest in rows.decode(Int64?.self) where (newest ?? .min) > expected {
                    throw InboxError.ticketChanged(ticketId, version: expected)
                }
            }
            let messageId = try await Self.insertReply(
                on: connection, ticketId: ticketId, status: ticket.status, lastIdentity: ticket.lastIdentity, content: reply.content,
                channel: reply.channel, author: reply.author, now: reply.now, vet: vet, logger: logger)
            if let agentId = reply.draftOf {
                try await PostgresDraftStore.useUp(connection, ticketId: ticketId, agentId: agentId, mode: .reply, logger: logger)
            }
            return messageId
        }
    }

    public func requeueFailed(
        messageId: Int64, at now: Date, check: @escaping TicketCheck, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int64 {
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            // The ticket's row is locked before the outbox id is taken (see above); the message's,
            // so that two retries of it queue it once.
            let rows = try await connection.query("""
                SELECT m.ticket_id, m.identity_id, m.direction, m.status, m.account, m.content, m.idempotency_key,
                    t.status, t.agent_id, t.department_id
                FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.id = \(messageId) FOR UPDATE OF m, t
                """, logger: logger)
            var found: (ticketId: Int64, identityId: Int64, direction: String, status: String, account: String, content: String, key: String,
                ticketStatus: String, place: TicketPlace)?
            for try await row in rows {
                let (ticketId, identityId, direction, status, account, content, key, ticketStatus, agentId, departmentId) = try row.decode(
                    (Int64, Int64, String, String, String, String, String, String, Int64?, Int64?).self)
                found = (ticketId, identityId, direction, status, account, content, key, ticketStatus, TicketPlace(agentId: agentId, departmentId: departmentId))
            }
            guard let message = found else { throw InboxError.notFound("message \(messageId)") }
            try check(message.ticketId, [message.place])
            guard message.direction == MessageDirection.outbound.rawValue, message.status == "failed" else { throw InboxError.notFailed(messageId) }
            if message.ticketStatus == TicketStatus.closed.rawValue { throw InboxError.ticketClosed(message.ticketId) }
            guard let identity = try await Self.identity(
                on: connection, "SELECT \(unescaped: Self.identityColumns("i")) FROM identities i WHERE i.id = \(message.identityId)", logger: logger)
            else { throw InboxError.notFound("identity \(message.identityId)") }
            let content = try MessageContent(storedJSON: message.content)
            if let refusal = vet(identity.target(key: message.key, content: content, now: now)) { throw InboxError.refused(refusal) }
            try await connection.query("""
                UPDATE messages SET status = 'queued', failure_code = NULL, failure_reason = NULL, updated_at = \(now.ms) WHERE id = \(messageId)
                """, logger: logger)
            try await Self.enqueue(on: connection, messageId: messageId, ticketId: message.ticketId, account: message.account, at: now, logger: logger)
            return message.ticketId
        }
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [OutboundJob] {
        return try await LeaseQueue.outbox.claim(with: client, limit: limit, lease: lease, now: now, logger: logger) { connection, leases in
            // The identities are locked (in id order; NO KEY, so a reply being queued to one meanwhile
            // is not held up): a reply token is read and taken in one go, never handed out twice.
            let rows = try await connection.query("""
                SELECT o.id, o.message_id, o.ticket_id, o.account, o.attempts, m.content, m.idempotency_key, m.author, \(unescaped: Self.identityColumns("i"))
                FROM outbox o JOIN messages m ON m.id = o.message_id JOIN identities i ON i.id = m.identity_id
                WHERE o.id = ANY(\(leases.map(\.id))) ORDER BY i.id FOR NO KEY UPDATE OF i
                """, logger: logger)
            var byId: [Int64: (message: Int64, ticket: Int64, account: String, attempts: Int, content: String, key: String, author: String?, identity: OutboxIdentity)] = [:]
            for try await row in rows {
                let cells = row.makeRandomAccess()
                byId[try cells[0].decode(Int64.self)] = (
                    try cells[1].decode(Int64.self), try cells[2].decode(Int64.self), try cells[3].decode(String.self), try cells[4].decode(Int.self),
                    try cells[5].decode(String.self), try cells[6].decode(String.self), try cells[7].decode(String?.self), try Self.identity(cells, from: 8)
                )
            }
            let tokens = Set(byId.values.filter { $0.identity.replyToken != nil }.map(\.identity.id))
            if !tokens.isEmpty {
                try await connection.query(
                    "UPDATE identities SET reply_token = NULL, reply_token_at = NULL WHERE id = ANY(\(tokens.sorted()))", logger: logger)
            }
            var jobs: [OutboundJob] = []
            for lease in leases {
                guard let row = byId[lease.id] else { continue }
                let threaded = Inbox.accountRef(row.account)?.kind.threadsReplies == true
                jobs.append(OutboundJob(
                    lease: lease, messageId: row.message, ticketId: row.ticket, account: row.account, attempts: row.attempts,
                    message: OutboundMessage(
                        id: row.key, recipient: row.identity.platformUserId, content: try MessageContent(storedJSON: row.content),
                        context: row.identity.context(now: now),
                        thread: threaded ? try await Self.replyThread(on: connection, ticketId: row.ticket, account: row.account, logger: logger) : nil,
                        automatic: Inbox.isAutomatic(author: row.author))))
            }
            return jobs
        }
    }

    /// As `MessageThread.ofReply` on SQLite: the ticket's platform message ids on the account,
    /// nearest first (no attachments' `#n` ids; capped, keeping the first), its number and subject.
    static func replyThread(on connection: PostgresConnection, ticketId: Int64, account: String, logger: Logger) async throws -> MessageThread {
        func ids(newestFirst: Bool, _ limit: Int) async throws -> [String] {
            var ids: [String] = []
            for try await id in try await connection.query("""
                SELECT platform_message_id FROM messages
                WHERE ticket_id = \(ticketId) AND account = \(account) AND platform_message_id IS NOT NULL AND strpos(platform_message_id, '#') = 0
                ORDER BY id \(unescaped: newestFirst ? "DESC" : "ASC") LIMIT \(limit)
                """, logger: logger).decode(String.self) {
                ids.append(id)
            }
            return ids
        }
        let newest = try await ids(newestFirst: true, MessageThread.referencesConsidered)
        let first = newest.count < MessageThread.referencesConsidered ? nil : try await ids(newestFirst: false, 1).first
        let references = MessageThread.capped(newest, first: first)
        var subject: String?
        for try await row in try await connection.query("SELECT subject FROM tickets WHERE id = \(ticketId)", logger: logger).decode(String?.self) {
            subject = row
        }
        return MessageThread(references: references, ticketNumber: ticketId, subject: subject)
    }

    public func markSent(_ job: OutboundJob, receipt: SendReceipt, at now: Date) async throws -> SentRecord {
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            var events: [InboxEvent] = [.messageStatusChanged(messageId: job.messageId, status: .sent)]
            let segments = receipt.segments.map { Int32($0.count) }
            try await connection.query("""
                UPDATE messages SET status = 'sent', platform_message_id = \(receipt.platformMessageId), segments = \(segments),
                    segment_encoding = \(receipt.segments?.encoding), updated_at = \(now.ms)
                WHERE id = \(job.messageId) AND status = 'queued'
                """, logger: logger)
            var lost: LeaseLost?
            // Caught inside the transaction: the send is recorded all the same.
            do { try await LeaseQueue.outbox.complete(on: connection, job.lease, logger: logger) } catch let error as LeaseLost { lost = error }
            if let platformId = receipt.platformMessageId, let account = job.receiptAccount {
                try await Self.applyPendingReceipts(on: connection, account: account, platformMessageId: platformId, now: now.ms, into: &events, logger: logger)
            }
            return SentRecord(events: events, leaseLost: lost)
        }
    }

    public func markFailed(_ job: OutboundJob, error: SendError, at now: Date) async throws {
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            try await LeaseQueue.outbox.complete(on: connection, job.lease, logger: logger)
            try await connection.query("""
                UPDATE messages SET status = 'failed', failure_code = \(error.code), failure_reason = \(error.reason), updated_at = \(now.ms)
                WHERE id = \(job.messageId) AND status = 'queued'
                """, logger: logger)
        }
    }

    public func reschedule(_ job: OutboundJob, at next: Date, error: SendError) async throws {
        try await client.transaction(logger: logger) { connection in
            try await LeaseQueue.outbox.reschedule(on: connection, job.lease, at: next.ms, error: error.description, logger: logger)
        }
    }

    public func depth() async throws -> Int {
        for try await count in try await client.query("SELECT count(*) FROM outbox", logger: logger).decode(Int64.self) { return Int(count) }
        return 0
    }

    public func replyChannels(ticketId: Int64) async throws -> [ReplyChannel] {
        let rows = try await client.query("""
            SELECT i.channel, i.account, i.last_inbound_at FROM identities i JOIN tickets t ON t.contact_id = i.contact_id
            WHERE t.id = \(ticketId) ORDER BY i.id
            """, logger: logger)
        var channels: [ReplyChannel] = []
        for try await (channel, account, lastInboundAt) in rows.decode((String, String, Int64?).self) {
            channels.append(ReplyChannel(channel: channel, account: account, lastInboundAt: lastInboundAt.map { Date(ms: $0) }))
        }
        return channels
    }

    // MARK: - Helpers

    private static func enqueue(
        on connection: PostgresConnection, messageId: Int64, ticketId: Int64, account: String, at now: Date, logger: Logger
    ) async throws {
        try await connection.query("""
            INSERT INTO outbox (message_id, ticket_id, account, next_attempt_at) VALUES (\(messageId), \(ticketId), \(account), \(now.ms))
            """, logger: logger)
    }

    /// The identity columns a send needs, in `identity(_:from:)`'s order.
    private static func identityColumns(_ alias: String) -> String {
        ["id", "account", "channel", "platform_user_id", "last_inbound_at", "reply_token", "reply_token_at", "blocked"]
            .map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    private static func identity(on connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> OutboxIdentity? {
        for try await row in try await connection.query(query, logger: logger) { return try identity(row.makeRandomAccess(), from: 0) }
        return nil
    }

    private static func identity(_ cells: PostgresRandomAccessRow, from first: Int) throws -> OutboxIdentity {
        OutboxIdentity(
            id: try cells[first].decode(Int64.self), account: try cells[first + 1].decode(String.self), channel: try cells[first + 2].decode(String.self),
            platformUserId: try cells[first + 3].decode(String.self), lastInboundAt: try cells[first + 4].decode(Int64?.self),
            replyToken: try cells[first + 5].decode(String?.self), replyTokenAt: try cells[first + 6].decode(Int64?.self),
            blocked: try cells[first + 7].decode(Int.self) != 0)
    }

    /// Receipts that arrived before the send was recorded, applied now (`ReceiptWriter.applyPending`
    /// on SQLite): states only move forward; a campaign message's receipt moves its recipient.
    private static func applyPendingReceipts(
        on connection: PostgresConnection, account: String, platformMessageId: String, now: Int64, into events: inout [InboxEvent], logger: Logger
    ) async throws {
        var pending: [(String, String?, String?)] = []
        let rows = try await connection.query("""
            SELECT status, error_code, error_message FROM pending_receipts WHERE account = \(account) AND platform_message_id = \(platformMessageId)
            """, logger: logger)
        for try await row in rows.decode((String, String?, String?).self) { pending.append(row) }
        for (rawStatus, errorCode, errorMessage) in pending {
            guard let status = DeliveryStatus(rawValue: rawStatus) else { continue }
            var messages: [(Int64, String)] = []
            let found = try await connection.query("""
                SELECT id, status FROM messages WHERE account = \(account) AND platform_message_id = \(platformMessageId) AND direction = 'out'
                """, logger: logger)
            for try await row in found.decode((Int64, String).self) { messages.append(row) }
            if messages.isEmpty {
                let recipients = try await connection.query("""
                    SELECT id, status FROM campaign_recipients WHERE account = \(account) AND platform_message_id = \(platformMessageId)
                    """, logger: logger)
                var recipient: (Int64, String)?
                for try await row in recipients.decode((Int64, String).self) where recipient == nil { recipient = row }
                if let (id, current) = recipient, status.rank > (DeliveryStatus(rawValue: current) ?? .sent).rank {
                    let reason = errorMessage.map { "\(errorCode ?? "failed"): \($0)" }
                    try await connection.query("""
                        UPDATE campaign_recipients SET status = \(status.rawValue), reason = coalesce(\(reason), reason), updated_at = \(now) WHERE id = \(id)
                        """, logger: logger)
                }
                continue
            }
            for (id, current) in messages where status.rank > (DeliveryStatus(rawValue: current) ?? .queued).rank {
                try await connection.query("""
                    UPDATE messages SET status = \(status.rawValue), failure_code = coalesce(\(errorCode), failure_code),
                        failure_reason = coalesce(\(errorMessage), failure_reason), updated_at = \(now) WHERE id = \(id)
                    """, logger: logger)
                events.append(.messageStatusChanged(messageId: id, status: status))
            }
        }
        try await connection.query(
            "DELETE FROM pending_receipts WHERE account = \(account) AND platform_message_id = \(platformMessageId)", logger: logger)
    }
}

// MARK: - The bridge's own messages on PostgreSQL

extension PostgresOutboxStore {
    public func sendAutomaticReply(_ reply: AutomaticReply, now: Date, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int64? {
        let ticketId = reply.ticketId
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            // The ticket's row is locked, so of two processes sending the same kind one finds the other's entry.
            let tickets = try await connection.query("""
                SELECT status, last_identity_id, queued_at IS NOT NULL AND agent_id IS NULL AND status IN ('new', 'open')
                FROM tickets WHERE id = \(ticketId) FOR UPDATE
                """, logger: logger).decode((String, Int64, Bool).self).all()
            guard let (status, lastIdentity, waiting) = tickets.first else { throw InboxError.notFound("ticket \(ticketId)") }
            let sent = try await connection.query("""
                SELECT 1 FROM ticket_events WHERE ticket_id = \(ticketId) AND kind IN (\(reply.kind.rawValue), \(reply.notSentKind)) LIMIT 1
                """, logger: logger).decode(Int32.self).all()
            guard sent.isEmpty, reply.kind != .queueNotice || waiting else { return nil }
            do {
                let id = try await Self.insertReply(
                    on: connection, ticketId: ticketId, status: status, lastIdentity: lastIdentity, content: .text(reply.text), channel: nil,
                    author: "system", now: now, vet: vet, logger: logger)
                try await PostgresTicketHistory.record(ticketId, reply.kind.rawValue, by: Caller.system.label, reply.detail, at: now.ms, on: connection, logger: logger)
                return id
            } catch InboxError.refused(let refusal) {
                // Refused before anything was written: the transaction goes on to record why.
                try await PostgresTicketHistory.record(ticketId, reply.notSentKind, by: Caller.system.label, ["reason": refusal.reason], at: now.ms, on: connection, logger: logger)
                return nil
            }
        }
    }

    /// Writes an outbound message and its outbox row on a ticket whose row the caller has locked
    /// (`status` and `lastIdentity` read under that lock): `ticket_closed`, `no_such_channel`, and
    /// `refused` (before any write, so the caller's transaction may go on) when `vet` refuses it.
    /// Returns the message id.
    static func insertReply(
        on connection: PostgresConnection, ticketId: Int64, status: String, lastIdentity: Int64, content: MessageContent, channel: String?,
        author: String?, now: Date, vet: (ReplyTarget) -> SendError?, logger: Logger
    ) async throws -> Int64 {
        if status == TicketStatus.closed.rawValue { throw InboxError.ticketClosed(ticketId) }
        let identity: OutboxIdentity
        if let channel {
            // The agent chose another of the contact's channels: its most recently used identity.
            guard let chosen = try await Self.identity(on: connection, """
                SELECT \(unescaped: Self.identityColumns("i")) FROM identities i JOIN tickets t ON t.contact_id = i.contact_id
                WHERE t.id = \(ticketId) AND i.channel = \(channel) ORDER BY coalesce(i.last_inbound_at, 0) DESC, i.id DESC LIMIT 1
                """, logger: logger)
            else { throw InboxError.noReplyChannel(ticketId: ticketId, channel: channel) }
            identity = chosen
        } else {
            guard let last = try await Self.identity(
                on: connection, "SELECT \(unescaped: Self.identityColumns("i")) FROM identities i WHERE i.id = \(lastIdentity)", logger: logger)
            else { throw InboxError.notFound("identity \(lastIdentity)") }
            identity = last
        }
        let key = UUID().uuidString.lowercased()
        if let refusal = vet(identity.target(key: key, content: content, now: now)) { throw InboxError.refused(refusal) }
        let stored = try content.storedJSON()
        let inserted = try await connection.query("""
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status,
                idempotency_key, author, created_at, updated_at)
            VALUES (\(ticketId), \(identity.id), 'out', \(identity.channel), \(identity.account), \(stored), \(content.summary), 'queued',
                \(key), \(author), \(now.ms), \(now.ms))
            RETURNING id
            """, logger: logger).decode(Int64.self).all()
        guard let messageId = inserted.first else { throw InboxError.notFound("message for ticket \(ticketId)") }
        try await Self.enqueue(on: connection, messageId: messageId, ticketId: ticketId, account: identity.account, at: now, logger: logger)
        try await connection.query("""
            UPDATE tickets SET updated_at = \(now.ms), status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE id = \(ticketId)
            """, logger: logger)
        return messageId
    }

}
