import Foundation

/// Retention, erasure and export as the bridge does them: the stores change the rows, and the
/// files the rows named are removed from disk after the commit (a file left by a crash in between
/// is an orphan nothing points to; a file removed before a rolled-back commit would be a row
/// pointing to nothing).
extension Inbox {
    public func retention() async throws -> RetentionSettings {
        try await stores.dataCare.retention()
    }

    /// Sets the retention periods: each nil (keep forever) or 1 to `RetentionSettings.maxDays` days.
    public func setRetention(_ settings: RetentionSettings) async throws -> RetentionSettings {
        for (name, days) in [("messagesDays", settings.messagesDays), ("attachmentsDays", settings.attachmentsDays)] {
            if let days, !(1...RetentionSettings.maxDays).contains(days) {
                throw InboxError.invalid(code: "invalid_retention", message: "\(name) must be a number of days from 1 to \(RetentionSettings.maxDays), or null to keep forever")
            }
        }
        try await stores.dataCare.setRetention(settings, at: clock())
        return settings
    }

    /// One pass of the retention clean-up, as of the inbox's clock: up to `limit` messages cleared
    /// and `limit` attachments deleted with their files.
    @discardableResult
    public func applyRetention(limit: Int = 500) async throws -> RetentionOutcome {
        let outcome = try await stores.dataCare.applyRetention(now: clock(), limit: limit)
        Self.removeFiles(outcome.files)
        return outcome
    }

    /// Erases the contact and everything stored about them, files included.
    public func eraseContact(_ contactId: Int64) async throws -> ErasureOutcome {
        guard let outcome = try await stores.dataCare.eraseContact(contactId) else { throw InboxError.notFound("contact \(contactId)") }
        Self.removeFiles(outcome.files)
        return outcome
    }

    /// Everything stored about the contact as a JSON document (`ContactExport`).
    public func exportContact(_ contactId: Int64) async throws -> Data {
        guard let tables = try await stores.dataCare.exportContact(contactId) else { throw InboxError.notFound("contact \(contactId)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(ContactExport(contactId: contactId, exportedAt: clock(), tables: tables))
    }

    public func systemStatus(errorLimit: Int = 20) async throws -> SystemStatus {
        try await stores.dataCare.systemStatus(errorLimit: errorLimit)
    }

    public func recordAudit(_ entry: NewAuditEntry) async throws {
        try await stores.dataCare.recordAudit(entry)
    }

    public func auditLog(limit: Int, before: Int64? = nil) async throws -> [AuditEntry] {
        try await stores.dataCare.auditLog(limit: limit, before: before)
    }

    static func removeFiles(_ paths: [String]) {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// The file a contact's export downloads as: the rows about them, table by table, with the
/// database's column names (times in Unix milliseconds, as stored).
public struct ContactExport: Codable, Sendable {
    public var contactId: Int64
    public var exportedAt: Date
    public var tables: [String: [[String: ExportValue]]]
}
