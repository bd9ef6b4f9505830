extension Schema {
    /// v40: a customer message rewrites fewer index entries. Every message moves its ticket's
    /// `updated_at`, and SQLite rewrites the ticket's entry in every index that holds the column;
    /// four did, and their pages were a quarter of each group commit's WAL frames
    /// (`IngestBenchmark store`: about 13 of 50).
    /// - `tickets_waiting` holds only the waiting tickets, in the longest-waiting list's order
    ///   `(waiting_since, id)`: a message on a ticket that already waits leaves it alone. The
    ///   answered tickets' newest-first order, the rest of that list, has `tickets_answered`, which
    ///   a ticket leaves when a customer message starts a wait.
    /// - `tickets_department` holds only the tickets that have a department: lists ask for them by a
    ///   department id (`department_id = ?`), never for those without one.
    static let ticketActivityIndexes = """
        DROP INDEX tickets_waiting;
        CREATE INDEX tickets_waiting ON tickets(waiting_since, id) WHERE waiting_since IS NOT NULL;
        CREATE INDEX tickets_answered ON tickets(updated_at, id) WHERE waiting_since IS NULL;
        DROP INDEX tickets_department;
        CREATE INDEX tickets_department ON tickets(department_id, updated_at, id) WHERE department_id IS NOT NULL;
        """
}
