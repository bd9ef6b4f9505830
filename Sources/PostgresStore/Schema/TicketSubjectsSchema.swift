extension PostgresSchema {
    /// Migration 23, the twin of SQLite's v37: the subject of a ticket opened by a mail.
    static let ticketSubjects = ["ALTER TABLE tickets ADD COLUMN subject TEXT"]
}
