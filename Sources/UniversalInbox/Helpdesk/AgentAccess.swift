import Foundation
import GRDB

/// One of an agent's tokens as listed to people who manage it: never the token or its digest.
public struct AgentToken: Sendable, Equatable, Codable {
    public var id: Int64
    public var agentId: Int64
    /// `api` (made through the API or the CLI) or `session` (a login).
    public var kind: String
    public var label: String?
    public var createdAt: Date
    public var expiresAt: Date?
}

/// Ending an agent's access: revoking tokens, deactivating and reactivating. Every change publishes
/// `agentAccessChanged`, so open live sockets re-check their token at once.
extension Inbox {
    /// The agent's unexpired tokens, oldest first.
    public func tokens(agentId: Int64) async throws -> [AgentToken] {
        let now = clock().ms
        return try await database.pool.read { db in
            try Self.requireAgent(db, agentId)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM agent_tokens WHERE agent_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id", arguments: [agentId, now]
            ).map { row in
                AgentToken(
                    id: row["id"], agentId: row["agent_id"], kind: row["kind"], label: row["label"], createdAt: Date(ms: row["created_at"]),
                    expiresAt: (row["expires_at"] as Int64?).map(Date.init(ms:)))
            }
        }
    }

    /// Revokes every token of the agent (logins and API tokens). Returns how many there were.
    @discardableResult
    public func revokeTokens(agentId: Int64) async throws -> Int {
        let count: Int = try await database.pool.write { db in
            try Self.requireAgent(db, agentId)
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ?", arguments: [agentId])
            return db.changesCount
        }
        bus.publish([.agentAccessChanged(agentId: agentId)])
        return count
    }

    /// Revokes one token of the agent; a token of someone else is not found.
    public func revokeToken(id: Int64, agentId: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM agent_tokens WHERE id = ? AND agent_id = ?", arguments: [id, agentId])
            if db.changesCount == 0 { throw InboxError.notFound("token \(id) of agent \(agentId)") }
        }
        bus.publish([.agentAccessChanged(agentId: agentId)])
    }

    /// Deactivates an agent: its history stays; its tokens end (and its live sockets close); it goes
    /// offline and out of distribution; its tickets still in progress (new, open, pending) go back to
    /// their department's queue for someone else, each with a history entry; its pending alerts are
    /// dropped. The last active owner cannot be deactivated. Deactivating twice changes nothing more.
    public func deactivateAgent(id: Int64, by actor: Caller) async throws -> Agent {
        let now = clock().ms
        let requeued: [Int64] = try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT role, deactivated_at FROM agents WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("agent \(id)")
            }
            guard row["deactivated_at"] as Int64? == nil else { return [] }
            if row["role"] == AgentRole.owner.rawValue,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM agents WHERE role = 'owner' AND deactivated_at IS NULL") == 1
            {
                throw InboxError.conflict(code: "last_owner", message: "the last owner cannot be deactivated")
            }
            try db.execute(
                sql: "UPDATE agents SET deactivated_at = ?, availability = 'offline', updated_at = ? WHERE id = ?", arguments: [now, now, id])
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM notifications WHERE agent_id = ? AND status = 'pending'", arguments: [id])
            let tickets = try Int64.fetchAll(
                db, sql: "SELECT id FROM tickets WHERE agent_id = ? AND status IN ('new', 'open', 'pending') ORDER BY id", arguments: [id])
            for ticketId in tickets {
                try db.execute(
                    sql: "UPDATE tickets SET agent_id = NULL, assignee = NULL, queued_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, ticketId])
                try Self.record(
                    db, ticketId: ticketId, "transferred", by: actor.label, ["fromAgentId": String(id), "note": "agent deactivated"], at: now)
            }
            return tickets
        }
        bus.publish([.agentAccessChanged(agentId: id)] + requeued.map { .ticketQueued(ticketId: $0) })
        guard let agent = try await agent(id: id) else { throw InboxError.notFound("agent \(id)") }
        return agent
    }

    /// Lets a deactivated agent back in. It stays offline and has no tokens: it logs in again (or is
    /// given a token) and goes online itself.
    public func reactivateAgent(id: Int64) async throws -> Agent {
        let now = clock().ms
        try await database.pool.write { db in
            try Self.requireAgent(db, id)
            try db.execute(
                sql: "UPDATE agents SET deactivated_at = NULL, availability = 'offline', updated_at = ? WHERE id = ? AND deactivated_at IS NOT NULL",
                arguments: [now, id])
        }
        bus.publish([.agentAccessChanged(agentId: id)])
        guard let agent = try await agent(id: id) else { throw InboxError.notFound("agent \(id)") }
        return agent
    }

    private static func requireAgent(_ db: Database, _ id: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM agents WHERE id = ?", arguments: [id]) != nil else {
            throw InboxError.notFound("agent \(id)")
        }
    }
}
