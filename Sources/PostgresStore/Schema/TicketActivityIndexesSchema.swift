extension PostgresSchema {
    /// SQLite v40 (`UniversalInbox/Tickets/TicketActivityIndexes.swift`): the longest-waiting list's
    /// indexes without `updated_at` for the waiting tickets, and departments' only for tickets with
    /// one, so a customer message on a waiting ticket rewrites fewer index entries.
    static let ticketActivityIndexes = [
        "DROP INDEX tickets_waiting",
        "CREATE INDEX tickets_waiting ON tickets (waiting_since, id) WHERE waiting_since IS NOT NULL",
        "CREATE INDEX tickets_answered ON tickets (updated_at, id) WHERE waiting_since IS NULL",
        "DROP INDEX tickets_department",
        "CREATE INDEX tickets_department ON tickets (department_id, updated_at, id) WHERE department_id IS NOT NULL",
    ]
}
