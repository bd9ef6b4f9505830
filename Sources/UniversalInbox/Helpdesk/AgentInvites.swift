import Foundation
import GRDB

/// One-time invitation links: an owner or admin makes one for an agent (instead of telling them a
/// password); the agent opens it and chooses a password. Only the token's SHA-256 digest is kept,
/// it expires, a new link replaces the agent's earlier one, and using it deletes it in the same
/// transaction that sets the password, so it works once however many times it is sent.
extension Inbox {
    /// How long an invitation link works.
    public static let inviteLifetime: TimeInterval = 7 * 86400

    /// Keeps the digest of a new invitation for agent `agentId` and returns when it expires.
    public func inviteAgent(agentId: Int64, digest: String) async throws -> Date {
        let now = clock()
        let expires = now.addingTimeInterval(Self.inviteLifetime)
        try await stores.agentStore.addInvite(digest: digest, agentId: agentId, expiresAt: expires, at: now)
        return expires
    }

    /// The agent an unused, unexpired invitation is for: checked before the password is hashed, so
    /// a wrong link costs no bcrypt work.
    public func invitedAgent(digest: String) async throws -> Int64? {
        try await stores.agentStore.inviteAgent(digest: digest, at: clock())
    }

    /// Sets the invited agent's password (ending its sessions) and uses the invitation up;
    /// `invite_invalid` when it is used, expired or replaced.
    public func acceptInvite(digest: String, passwordHash: String) async throws -> Int64 {
        guard let agentId = try await stores.agentStore.useInvite(digest: digest, passwordHash: passwordHash, at: clock()) else {
            throw InboxError.inviteInvalid
        }
        bus.publish([.agentAccessChanged(agentId: agentId)])
        return agentId
    }
}

extension InboxError {
    public static let inviteInvalid = InboxError.conflict(
        code: "invite_invalid", message: "this invitation link is used, expired or replaced; ask for a new one")
}

extension Schema {
    /// `v30-people-automation`: invitation links, by the digest of their token.
    static let agentInvites = """
        CREATE TABLE agent_invites (
            digest TEXT PRIMARY KEY,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            expires_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX agent_invites_agent ON agent_invites(agent_id);
        """
}

extension SQLiteAgentStore {
    public func addInvite(digest: String, agentId: Int64, expiresAt: Date, at: Date) async throws {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT deactivated_at FROM agents WHERE id = ?", arguments: [agentId]) else {
                throw InboxError.agentNotFound(agentId)
            }
            guard row["deactivated_at"] as Int64? == nil else { throw InboxError.agentDeactivated(agentId) }
            try db.execute(sql: "DELETE FROM agent_invites WHERE agent_id = ? OR expires_at <= ?", arguments: [agentId, at.ms])
            try db.execute(
                sql: "INSERT INTO agent_invites (digest, agent_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                arguments: [digest, agentId, expiresAt.ms, at.ms])
        }
    }

    public func inviteAgent(digest: String, at: Date) async throws -> Int64? {
        try await database.pool.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT i.agent_id FROM agent_invites i JOIN agents a ON a.id = i.agent_id
                WHERE i.digest = ? AND i.expires_at > ? AND a.deactivated_at IS NULL
                """, arguments: [digest, at.ms])
        }
    }

    public func useInvite(digest: String, passwordHash: String, at: Date) async throws -> Int64? {
        try await database.pool.write { db in
            guard let agentId = try Int64.fetchOne(db, sql: """
                SELECT i.agent_id FROM agent_invites i JOIN agents a ON a.id = i.agent_id
                WHERE i.digest = ? AND i.expires_at > ? AND a.deactivated_at IS NULL
                """, arguments: [digest, at.ms])
            else { return nil }
            try db.execute(sql: "DELETE FROM agent_invites WHERE digest = ?", arguments: [digest])
            try db.execute(sql: "UPDATE agents SET password_hash = ?, updated_at = ? WHERE id = ?", arguments: [passwordHash, at.ms, agentId])
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ?", arguments: [agentId])
            return agentId
        }
    }
}
