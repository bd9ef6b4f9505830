import Foundation

/// One of an agent's tokens as listed to people who manage it: never the token or its digest.
public struct AgentToken: Sendable, Equatable, Codable {
    public var id: Int64
    public var agentId: Int64
    /// `api` (made through the API or the CLI) or `session` (a login).
    public var kind: String
    public var label: String?
    public var createdAt: Date
    public var expiresAt: Date?

    public init(id: Int64, agentId: Int64, kind: String, label: String?, createdAt: Date, expiresAt: Date?) {
        self.id = id
        self.agentId = agentId
        self.kind = kind
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Ending an agent's access: revoking tokens, deactivating and reactivating. Every change publishes
/// `agentAccessChanged`, so open live sockets re-check their token at once.
extension Inbox {
    /// The agent's unexpired tokens, oldest first.
    public func tokens(agentId: Int64) async throws -> [AgentToken] {
        try await stores.agentStore.tokens(agentId: agentId, at: clock())
    }

    /// Revokes every token of the agent (logins and API tokens). Returns how many there were.
    @discardableResult
    public func revokeTokens(agentId: Int64) async throws -> Int {
        let count = try await stores.agentStore.deleteTokens(agentId: agentId)
        bus.publish([.agentAccessChanged(agentId: agentId)])
        return count
    }

    /// Revokes one token of the agent; a token of someone else is not found.
    public func revokeToken(id: Int64, agentId: Int64) async throws {
        guard try await stores.agentStore.deleteToken(id: id, agentId: agentId) else { throw InboxError.notFound("token \(id) of agent \(agentId)") }
        bus.publish([.agentAccessChanged(agentId: agentId)])
    }

    /// Deactivates an agent: its history stays; its tokens end (and its live sockets close); it goes
    /// offline and out of distribution; its tickets still in progress (new, open, pending) go back to
    /// their department's queue for someone else, each with a history entry; its pending alerts are
    /// dropped. The last active owner cannot be deactivated. Deactivating twice changes nothing more.
    public func deactivateAgent(id: Int64, by actor: Caller) async throws -> Agent {
        let requeued = try await stores.agentStore.deactivate(id: id, by: actor.label, at: clock()) ?? []
        bus.publish([.agentAccessChanged(agentId: id)] + requeued.map { .ticketQueued(ticketId: $0) })
        guard let agent = try await agent(id: id) else { throw InboxError.agentNotFound(id) }
        return agent
    }

    /// Lets a deactivated agent back in. It stays offline and has no tokens: it logs in again (or is
    /// given a token) and goes online itself.
    public func reactivateAgent(id: Int64) async throws -> Agent {
        try await stores.agentStore.reactivate(id: id, at: clock())
        bus.publish([.agentAccessChanged(agentId: id)])
        guard let agent = try await agent(id: id) else { throw InboxError.agentNotFound(id) }
        return agent
    }
}
