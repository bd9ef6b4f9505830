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
