import Foundation

/// What the console's Health and Data sections and the audit log keep and read: retention
/// periods and the clean-up they drive, erasing and exporting one contact's data (GDPR, Japan's
/// APPI), the health figures worked out from the database (so they are right whichever process
/// serves the page), and the audit log of settings changes. One implementation per database
/// (`SQLiteDataCareStore`, `PostgresDataCareStore`), held to one contract (Tests/StoreTests).
public protocol DataCareStore: Sendable {
    /// The retention periods (both nil, "keep forever", until an owner sets them).
    func retention() async throws -> RetentionSettings
    func setRetention(_ settings: RetentionSettings, at now: Date) async throws

    /// Clears the text and content of messages older than the message period (and deletes the
    /// other copies of conversations that old: sent webhook deliveries and alerts, unreadable
    /// events), and deletes the attachments older than the attachment period (their rows: the caller deletes the files named
    /// in the outcome). At most `limit` of each per call, oldest first, so a first run on a large
    /// database is a series of short transactions.
    func applyRetention(now: Date, limit: Int) async throws -> RetentionOutcome

    /// Deletes the contact and everything stored about them (identities, tickets and all that hangs
    /// on them, messages, attachments' rows, the search index's entries, the event log's entries of
    /// their tickets, drafts, ratings, campaign recipients, queued alerts and jobs, outgoing webhook
    /// deliveries about their tickets, the unreadable events that name their platform user ids). Nil if there is no such contact. The caller
    /// deletes the attachment files the outcome names.
    func eraseContact(_ contactId: Int64) async throws -> ErasureOutcome?

    /// Every row stored about the contact, table by table (secrets and server paths left out), or
    /// nil if there is no such contact.
    func exportContact(_ contactId: Int64) async throws -> [String: [[String: ExportValue]]]?

    /// Database size, queue depths and the latest errors.
    func systemStatus(errorLimit: Int) async throws -> SystemStatus

    /// Appends one entry to the audit log.
    func recordAudit(_ entry: NewAuditEntry) async throws
    /// Audit entries, newest first, with ids below `before` when given.
    func auditLog(limit: Int, before: Int64?) async throws -> [AuditEntry]
}
