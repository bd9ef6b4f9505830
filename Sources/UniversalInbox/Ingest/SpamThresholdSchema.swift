extension Schema {
    /// v32: the spam threshold an owner or admin set in the console (`PUT /api/v1/spam`), read by
    /// every process at each screening; NULL is bridge.yaml's `spam.threshold`.
    static let spamThreshold = """
        ALTER TABLE spam_state ADD COLUMN threshold REAL;
        """
}
