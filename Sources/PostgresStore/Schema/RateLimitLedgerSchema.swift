extension PostgresSchema {
    /// Token buckets shared by every bridge process (`PostgresRateLimitLedger`): each bucket's balance
    /// (negative while reservations wait for it) and the Unix milliseconds of its latest reservation.
    /// No SQLite twin: on SQLite one process serves the database and keeps its buckets in memory
    /// (`ChannelKit/RateLimitLedger.swift`).
    static let rateLimitLedger = [
        """
        CREATE TABLE rate_limit_buckets (
            bucket TEXT PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
    ]
}

extension PostgresSchema {
    /// When each bucket will have refilled to its burst (`TokenBucketState.fullAt`), so the ones that
    /// have are forgotten (`PostgresRateLimitLedger.removeFull`): the widget's and the logins' buckets
    /// are named after visitors, addresses and e-mail addresses, which strangers choose. Buckets from
    /// before have none until their next reservation, and are kept until then.
    static let rateLimitFullAt = [
        "ALTER TABLE rate_limit_buckets ADD COLUMN full_at BIGINT",
        "CREATE INDEX rate_limit_buckets_full ON rate_limit_buckets (full_at)",
    ]
}

extension PostgresSchema {
    /// The nonces of signatures that do not cover the body (WeChat's plaintext mode), with the body's
    /// digest, until their timestamp is stale (`PostgresNonceLedger`): shared, so a replay to another
    /// process is refused too. No SQLite twin: one process serves a SQLite database and keeps them
    /// in memory (`ChannelKit/NonceLedger.swift`). Expired ones are deleted by the janitor, by time.
    static let webhookNonces = [
        """
        CREATE TABLE webhook_nonces (
            signer TEXT NOT NULL,
            nonce TEXT NOT NULL,
            digest TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (signer, nonce)
        )
        """,
        "CREATE INDEX webhook_nonces_expiry ON webhook_nonces (expires_at)",
    ]
}
