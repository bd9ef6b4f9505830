import Foundation

/// Where a transfer sends a ticket: an agent, a department's queue, or an agent within a department.
public struct TransferTarget: Sendable, Equatable {
    public var agentId: Int64?
    public var departmentId: Int64?

    public init(agentId: Int64? = nil, departmentId: Int64? = nil) {
        self.agentId = agentId
        self.departmentId = departmentId
    }
}

/// A ticket handed out by automatic distribution.
public struct Distribution: Sendable, Equatable {
    public var ticketId: Int64
    public var agentId: Int64

    public init(ticketId: Int64, agentId: Int64) {
        self.ticketId = ticketId
        self.agentId = agentId
    }
}

/// A ticket waiting in a queue: its place among the waiting tickets of its department.
public struct QueuedTicket: Sendable, Equatable, Codable {
    public var ticketId: Int64
    public var departmentId: Int64?
    public var position: Int
    public var queuedAt: Date

    public init(ticketId: Int64, departmentId: Int64?, position: Int, queuedAt: Date) {
        self.ticketId = ticketId
        self.departmentId = departmentId
        self.position = position
        self.queuedAt = queuedAt
    }
}

extension Inbox {
    /// "Keep": the acting agent takes an unassigned ticket. Taking one's own ticket again is a no-op;
    /// a ticket someone else has is a conflict.
    public func claim(ticketId: Int64, by actor: Caller) async throws -> TicketSummary {
        guard let agentId = actor.agentId else {
            throw InboxError.forbidden(code: "not_an_agent", message: "only an agent can keep a ticket; use a transfer to assign one")
        }
        let assigned = try await stores.assignmentStore.claim(
            ticketId: ticketId, by: actor, at: clock(), check: { try actor.check(.read, .ticket($0), places: $1) })
        if assigned { bus.publish([.ticketAssigned(ticketId: ticketId, agentId: agentId)]) }
        return try await summary(ticketId)
    }

    /// Gives a ticket to an agent, or puts it in a department's queue for distribution (no agent
    /// named). The note is kept as an internal note and in the history.
    public func transfer(ticketId: Int64, to target: TransferTarget, note: String?, by actor: Caller) async throws -> TicketSummary {
        guard target.agentId != nil || target.departmentId != nil else {
            throw InboxError.invalid(code: "no_target", message: "name an agentId, a departmentId, or both")
        }
        if let note, TextRules.length(note) > 4096 { throw InboxError.invalid(code: "note_too_long", message: "a note is at most 4096 characters") }
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        try await stores.assignmentStore.transfer(
            ticketId: ticketId, to: target, note: note, by: actor, at: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) })
        bus.publish([target.agentId.map { .ticketAssigned(ticketId: ticketId, agentId: $0) } ?? .ticketQueued(ticketId: ticketId)])
        return try await summary(ticketId)
    }

    /// Hands queued tickets, oldest first, to available agents: online, distribution not paused,
    /// fewer active tickets than their maximum, in the ticket's department (any agent when it has
    /// none). The agent who last served the contact comes first; then the one with the fewest active
    /// tickets. Concurrent runs never exceed a maximum (`AssignmentStore.distribute`).
    @discardableResult
    public func distributeQueued(limit: Int = 500) async throws -> [Distribution] {
        let handed = try await stores.assignmentStore.distribute(limit: limit, at: clock())
        bus.publish(handed.map { .ticketAssigned(ticketId: $0.ticketId, agentId: $0.agentId) })
        return handed
    }

    /// Waiting tickets whose customer has not been told their place yet (one read; the notice
    /// itself checks again as it writes).
    public func ticketsAwaitingQueueNotice(limit: Int = 200) async throws -> [Int64] {
        try await stores.assignmentStore.ticketsAwaitingQueueNotice(limit: limit)
    }

    /// Tickets waiting for distribution with their place in their department's queue.
    public func queue() async throws -> [QueuedTicket] {
        try await stores.assignmentStore.queue()
    }

    func summary(_ ticketId: Int64, reader: Int64? = nil) async throws -> TicketSummary {
        guard let ticket = try await ticket(id: ticketId, reader: reader) else { throw InboxError.notFound("ticket \(ticketId)") }
        return ticket
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
