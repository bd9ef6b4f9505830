import ChannelKit
import Foundation

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

    public init(lease: Lease, messageId: Int64, ticketId: Int64, account: String, attempts: Int, message: OutboundMessage) {
        self.lease = lease
        self.messageId = messageId
        self.ticketId = ticketId
        self.account = account
        self.attempts = attempts
        self.message = message
    }
}

/// Who a reply goes to and what the channel's rules need to know, checked before it is queued.
public struct ReplyTarget: Sendable {
    public var account: String
    public var message: OutboundMessage
}

extension Inbox {
    /// Queues an agent's reply on the channel the customer last wrote on: the message row and its
    /// outbox job in one transaction (`OutboxStore.queueReply`). `vet` sees the would-be message
    /// first and may refuse it (a channel's window rules); then nothing is written. With
    /// `expectedVersion` (the newest message id the agent saw), a ticket that got newer messages
    /// meanwhile is a `ticket_changed` conflict: two agents answering at once, one of them is told.
    public func queueReply(
        ticketId: Int64, content: MessageContent, channel: String? = nil, author: String? = nil, by actor: Caller = .system,
        expectedVersion: Int64? = nil, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> StoredMessage {
        let reply = NewReply(
            ticketId: ticketId, content: content, channel: channel, author: author ?? actor.agentId.map { "agent:\($0)" },
            expectedVersion: expectedVersion, draftOf: actor.agentId, now: clock())
        let messageId = try await stores.outbox.queueReply(reply, check: { try actor.check(.answer, .ticket($0), places: $1) }, vet: vet)
        bus.publish([.messageQueued(ticketId: ticketId, messageId: messageId)])
        guard let message = try await message(id: messageId) else { throw InboxError.notFound("message \(messageId)") }
        return message
    }

    /// Tells the customer of a queued ticket their place and the expected wait, once per ticket.
    /// `text` gets `{{position}}` and `{{wait}}` (minutes) filled in. Returns whether a message was queued.
    @discardableResult
    public func sendQueueNotice(ticketId: Int64, text: String, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Bool {
        guard let place = try await stores.assignmentStore.queuePlace(ticketId: ticketId) else { return false }
        let values = ["position": String(place.position), "wait": String(place.waitMinutes)]
        return try await sendAutomaticReply(
            AutomaticReply(
                ticketId: ticketId, kind: .queueNotice, text: TemplateText.fill(text, values),
                detail: ["position": String(place.position), "waitMinutes": String(place.waitMinutes)]),
            vet: vet)
    }

    /// Sends the bridge's own message on a ticket at most once per kind (a queue notice, an
    /// acknowledgement, an out-of-hours reply; `OutboxStore.sendAutomaticReply`) and publishes it.
    /// A refusal by the channel's rules (a closed window) is recorded as `<kind>_not_sent`.
    @discardableResult
    func sendAutomaticReply(_ reply: AutomaticReply, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Bool {
        guard let messageId = try await stores.outbox.sendAutomaticReply(reply, now: clock(), vet: vet) else { return false }
        bus.publish([.messageQueued(ticketId: reply.ticketId, messageId: messageId)])
        return true
    }

    /// Leases due outbound jobs (`LeaseQueue.outbox`: at most one per ticket, the oldest, so each
    /// conversation's messages leave in order). A LINE reply token handed out here is taken off the
    /// identity: it is single-use.
    public func claimOutbound(limit: Int, lease: TimeInterval) async throws -> [OutboundJob] {
        try await stores.outbox.claim(limit: limit, lease: lease, now: clock())
    }

    /// Makes sure `job` is still this worker's for at least half of `lease` before it is sent: a
    /// send that waited long for its account's rate limit renews its lease first (one write, only
    /// then), so another process cannot claim and send it meanwhile. `LeaseLost` when another
    /// worker claimed it since: this one must not send it.
    public func holdOutbound(_ job: OutboundJob, lease: TimeInterval) async throws -> OutboundJob {
        let now = clock()
        guard Double(job.lease.until - now.ms) < lease * 1000 / 2 else { return job }
        var held = job
        held.lease = try await stores.leaseQueues.renew(.outbox, job.lease, for: lease, now: now)
        return held
    }

    /// Records an accepted send and applies any receipt that arrived before it. The send is a fact
    /// and is recorded even when the job's lease ran out and another worker claimed it since; the
    /// outbox row is then left to that worker (`LeaseLost` is thrown after the commit).
    public func outboundSent(_ job: OutboundJob, receipt: SendReceipt) async throws {
        let record = try await stores.outbox.markSent(job, receipt: receipt, at: clock())
        bus.publish(record.events)
        if let lost = record.leaseLost { throw lost }
    }

    /// Marks a message failed for good with the platform's reason (one that was sent meanwhile stays sent).
    public func outboundFailed(_ job: OutboundJob, error: SendError) async throws {
        try await stores.outbox.markFailed(job, error: error, at: clock())
        bus.publish([.messageStatusChanged(messageId: job.messageId, status: .failed)])
    }

    /// Schedules another attempt; later messages of the same ticket wait behind it.
    public func retryOutbound(_ job: OutboundJob, at next: Date, error: SendError) async throws {
        try await stores.outbox.reschedule(job, at: next, error: error)
    }

    /// Messages waiting to be sent.
    public func outboxDepth() async throws -> Int {
        try await stores.outbox.depth()
    }

    /// Whether a message's `author` is the bridge itself (acknowledgements and surveys are
    /// `system`, rules `rule:<id>`), not an agent.
    package static func isAutomatic(author: String?) -> Bool {
        author == Caller.system.name || author?.hasPrefix("rule:") == true
    }

    package static func accountRef(_ key: String) -> ChannelAccountRef? {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = ChannelKind(rawValue: parts[0]) else { return nil }
        return ChannelAccountRef(kind: kind, id: parts[1])
    }
}
