import Foundation
import PostgresNIO
import UniversalInbox

extension PostgresSchema {
    /// Version 16 (`people-automation`): invitation links, by the digest of their token (the twin
    /// of SQLite's `v30-people-automation`).
    static let agentInvites = [
        """
        CREATE TABLE agent_invites (
            digest TEXT PRIMARY KEY,
            agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            expires_at BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX agent_invites_agent ON agent_invites (agent_id)",
    ]
}

/// Invitation links on PostgreSQL (see `Inbox.inviteAgent`). Using one deletes its row with
/// `DELETE ... RETURNING` in the transaction that sets the password: of two processes using the
/// same link at once, the second finds no row and changes nothing.
extension PostgresAgentStore {
    public func addInvite(digest: String, agentId: Int64, expiresAt: Date, at: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT deactivated_at FROM agents WHERE id = \(agentId) FOR UPDATE", logger: logger
            ).decode(Int64?.self).all()
            guard let deactivated = rows.first else { throw InboxError.agentNotFound(agentId) }
            guard deactivated == nil else { throw InboxError.agentDeactivated(agentId) }
            try await connection.query("DELETE FROM agent_invites WHERE agent_id = \(agentId) OR expires_at <= \(at.ms)", logger: logger)
            try await connection.query("""
                INSERT INTO agent_invites (digest, agent_id, expires_at, created_at) VALUES (\(digest), \(agentId), \(expiresAt.ms), \(at.ms))
                """, logger: logger)
        }
    }

    public func inviteAgent(digest: String, at: Date) async throws -> Int64? {
        try await client.query("""
            SELECT i.agent_id FROM agent_invites i JOIN agents a ON a.id = i.agent_id
            WHERE i.digest = \(digest) AND i.expires_at > \(at.ms) AND a.deactivated_at IS NULL
            """, logger: logger).decode(Int64.self).all().first
    }

    public func useInvite(digest: String, passwordHash: String, at: Date) async throws -> Int64? {
        try await client.transaction(logger: logger) { connection in
            let used = try await connection.query("""
                DELETE FROM agent_invites i USING agents a
                WHERE i.digest = \(digest) AND a.id = i.agent_id AND i.expires_at > \(at.ms) AND a.deactivated_at IS NULL
                RETURNING i.agent_id
                """, logger: logger).decode(Int64.self).all()
            guard let agentId = used.first else { return nil }
            try await connection.query("UPDATE agents SET password_hash = \(passwordHash), updated_at = \(at.ms) WHERE id = \(agentId)", logger: logger)
            try await connection.query("DELETE FROM agent_tokens WHERE agent_id = \(agentId)", logger: logger)
            return agentId
        }
    }
}
