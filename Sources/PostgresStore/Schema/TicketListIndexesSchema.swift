extension PostgresSchema {
    /// Indexes for the ticket lists' orders (PostgreSQL only: SQLite's planner answers these lists
    /// from its own indexes). `tickets_unassigned` holds only the tickets no one has, by department
    /// and in the newest-first order, so "unassigned" with or without a department walks just those
    /// tickets and stops after a page: before it, "unassigned & department 2" walked every ticket
    /// of the department (or of the inbox) to find none, because the planner takes "no agent" and
    /// "department" as independent while a department's tickets are mostly its agents'.
    static let ticketListIndexes = [
        "CREATE INDEX tickets_unassigned ON tickets (department_id, updated_at, id) WHERE agent_id IS NULL AND assignee IS NULL",
    ]
}
