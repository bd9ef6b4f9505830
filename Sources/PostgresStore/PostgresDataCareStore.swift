import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `DataCareStore` on PostgreSQL: the statements `ContactDataSQL` shares with SQLite, plus the
/// presence rows only PostgreSQL keeps. There is no search index to keep in step (pg_trgm indexes
/// the columns themselves, in the writing transaction).
public struct PostgresDataCareStore: DataCareStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func retention() async throws -> RetentionSettings {
        let rows = try await client.query("SELECT messages_days, attachments_days FROM retention_settings WHERE id = 1", logger: logger)
        for try await (messages, attachments) in rows.decode((Int?, Int?).self) {
            return RetentionSettings(messagesDays: messages, attachmentsDays: attachments)
        }
        return RetentionSettings()
    }

    public func setRetention(_ settings: RetentionSettings, at now: Date) async throws {
        try await client.query("""
            UPDATE retention_settings SET messages_days = \(settings.messagesDays), attachments_days = \(settings.attachmentsDays), updated_at = \(now.ms) WHERE id = 1
            """, logger: logger)
    }

    public func applyRetention(now: Date, limit: Int) async throws -> RetentionOutcome {
        let settings = try await retention()
        // Keep forever (the default): nothing to do, and no write competing with the others.
        guard settings.messagesDays != nil || settings.attachmentsDays != nil else { return RetentionOutcome() }
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            var outcome = RetentionOutcome()
            if let days = settings.messagesDays {
                let cutoff = now.addingTimeInterval(-Double(days) * 86400).ms
                let ids = try await Self.ids(connection, ContactDataSQL.expiredMessages(cutoff: cutoff, limit: limit), logger)
                if !ids.isEmpty {
                    for statement in ContactDataSQL.clearMessages(ids) { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    outcome.messagesCleared = ids.count
                }
                for statement in ContactDataSQL.expiredCopies(cutoff: cutoff, limit: limit) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            if let days = settings.attachmentsDays {
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: ContactDataSQL.expiredAttachments(cutoff: now.addingTimeInterval(-Double(days) * 86400).ms, limit: limit)), logger: logger)
                var ids: [Int64] = []
                for try await (id, path) in rows.decode((Int64, String?).self) {
                    ids.append(id)
                    if let path { outcome.files.append(path) }
                }
                if !ids.isEmpty {
                    for statement in ContactDataSQL.deleteAttachments(ids) { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                }
                outcome.attachmentsDeleted = ids.count
            }
            return outcome
        }
    }

    public func eraseContact(_ contactId: Int64) async throws -> ErasureOutcome? {
        let logger = logger
        // The deletions append to the event log through its triggers: the log's counter first.
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            guard try await !Self.ids(connection, "SELECT id FROM contacts WHERE id = \(contactId) FOR UPDATE", logger).isEmpty else { return nil }
            let tickets = try await Self.ids(connection, ContactDataSQL.tickets(contactId) + " ORDER BY id FOR UPDATE", logger)
            let messages = try await Self.ids(connection, ContactDataSQL.messages(contactId), logger)
            var files: [String] = []
            for try await path in try await connection.query(PostgresQuery(unsafeSQL: ContactDataSQL.files(contactId)), logger: logger).decode(String.self) {
                files.append(path)
            }
            let attachments = try await Self.ids(connection, "SELECT id FROM attachments WHERE message_id IN (\(ContactDataSQL.messages(contactId)))", logger)
            for statement in ContactDataSQL.erasure(contactId, tickets: tickets) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(PostgresQuery(unsafeSQL: ContactDataSQL.webhookDeliveries(tickets: tickets, postgres: true)), logger: logger)
            let list = ContactDataSQL.list(tickets)
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM presence WHERE ticket_id IN \(list)"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM presence_changes WHERE ticket_id IN \(list)"), logger: logger)
            return ErasureOutcome(contactId: contactId, tickets: tickets.count, messages: messages.count, attachments: attachments.count, files: files)
        }
    }

    public func exportContact(_ contactId: Int64) async throws -> [String: [[String: ExportValue]]]? {
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            guard try await !Self.ids(connection, "SELECT id FROM contacts WHERE id = \(contactId)", logger).isEmpty else { return nil }
            var tables: [String: [[String: ExportValue]]] = [:]
            for (table, sql) in ContactDataSQL.export(contactId) {
                var rows: [[String: ExportValue]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                    var values: [String: ExportValue] = [:]
                    for cell in row where !ContactDataSQL.hiddenColumns.contains(cell.columnName) {
                        values[cell.columnName] = try Self.value(cell)
                    }
                    rows.append(values)
                }
                tables[table] = rows
            }
            return tables
        }
    }

    public func systemStatus(errorLimit: Int) async throws -> SystemStatus {
        var bytes: Int64 = 0
        for try await size in try await client.query("SELECT pg_database_size(current_database())", logger: logger).decode(Int64.self) { bytes = size }
        var queues = QueueDepths(outbox: 0, jobs: 0, alertDeliveries: 0, webhookDeliveries: 0, campaignRecipients: 0)
        for try await (outbox, jobs, alerts, webhooks, campaigns) in try await client.query(PostgresQuery(unsafeSQL: ContactDataSQL.queueDepths), logger: logger)
            .decode((Int64, Int64, Int64, Int64, Int64).self)
        {
            queues = QueueDepths(outbox: Int(outbox), jobs: Int(jobs), alertDeliveries: Int(alerts), webhookDeliveries: Int(webhooks), campaignRecipients: Int(campaigns))
        }
        var errors: [RecentError] = []
        for try await (account, code, reason, at, ticket) in try await client.query(
            PostgresQuery(unsafeSQL: ContactDataSQL.sendFailures(limit: errorLimit)), logger: logger
        ).decode((String, String, String, Int64, Int64).self) {
            errors.append(.sendFailure(account: account, code: code, reason: reason, at: at, ticketId: ticket))
        }
        for try await (account, reason, at) in try await client.query(PostgresQuery(unsafeSQL: ContactDataSQL.unreadable(limit: errorLimit)), logger: logger)
            .decode((String, String, Int64).self)
        {
            errors.append(RecentError(kind: "unreadable_event", at: Date(ms: at), account: account, reason: reason, ticketId: nil))
        }
        return SystemStatus(databaseBytes: bytes, queues: queues, recentErrors: RecentError.merged(errors, limit: errorLimit))
    }

    public func recordAudit(_ entry: NewAuditEntry) async throws {
        try await client.query(
            .shared(ContactDataSQL.insertAudit, [
                entry.at.ms, entry.actorId, entry.actorName, entry.actorRole, entry.method, entry.route, entry.targetId, entry.summary, entry.status,
            ]), logger: logger)
    }

    public func auditLog(limit: Int, before: Int64?) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        let rows = try await client.query(.shared(ContactDataSQL.selectAudit, [before ?? Int64.max, limit]), logger: logger)
        for try await (id, at, actorId, actorName, actorRole, method, route, targetId, summary, status) in rows.decode(
            (Int64, Int64, Int64?, String, String, String, String, String?, String, Int).self)
        {
            entries.append(AuditEntry(id: id, NewAuditEntry(
                at: Date(ms: at), actorId: actorId, actorName: actorName, actorRole: actorRole, method: method, route: route, targetId: targetId,
                summary: summary, status: status)))
        }
        return entries
    }

    static func ids(_ connection: PostgresConnection, _ sql: String, _ logger: Logger) async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// One exported cell: integers, reals and text as they are; anything else as its text.
    static func value(_ cell: PostgresCell) throws -> ExportValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        default: return .text(try cell.decode(String.self))
        }
    }
}
