extension Schema {
    /// Agents can be deactivated (kept for history, out of distribution, unable to log in), and each
    /// token gets an id so one can be listed and revoked without showing its digest.
    static let agentAccess = """
        ALTER TABLE agents ADD COLUMN deactivated_at INTEGER;
        CREATE TABLE agent_tokens_v2 (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            label TEXT,
            created_at INTEGER NOT NULL,
            expires_at INTEGER
        );
        INSERT INTO agent_tokens_v2 (token_hash, agent_id, kind, label, created_at, expires_at)
            SELECT token_hash, agent_id, kind, label, created_at, expires_at FROM agent_tokens ORDER BY created_at;
        DROP TABLE agent_tokens;
        ALTER TABLE agent_tokens_v2 RENAME TO agent_tokens;
        CREATE INDEX agent_tokens_agent ON agent_tokens(agent_id);
        """
}
