import Foundation
import GRDB

/// `DataCareStore` on SQLite.
public struct SQLiteDataCareStore: DataCareStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func retention() async throws -> RetentionSettings {
        try await database.pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT messages_days, attachments_days FROM retention_settings WHERE id = 1")
            return RetentionSettings(messagesDays: row?["messages_days"], attachmentsDays: row?["attachments_days"])
        }
    }

    public func setRetention(_ settings: RetentionSettings, at now: Date) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE retention_settings SET messages_days = ?, attachments_days = ?, updated_at = ? WHERE id = 1",
                arguments: [settings.messagesDays, settings.attachmentsDays, now.ms])
        }
    }

    public func applyRetention(now: Date, limit: Int) async throws -> RetentionOutcome {
        let settings = try await retention()
        // Keep forever (the default): nothing to do, and no write competing with the others.
        guard settings.messagesDays != nil || settings.attachmentsDays != nil else { return RetentionOutcome() }
        return try await database.pool.write { db in
            var outcome = RetentionOutcome()
            if let days = settings.messagesDays {
                let cutoff = now.addingTimeInterval(-Double(days) * 86400).ms
                let ids = try Int64.fetchAll(db, sql: ContactDataSQL.expiredMessages(cutoff: cutoff, limit: limit))
                if !ids.isEmpty {
                    try Self.catchUpSearchIndex(db)
                    for statement in ContactDataSQL.clearMessages(ids) { try db.execute(sql: statement) }
                    outcome.messagesCleared = ids.count
                }
                for statement in ContactDataSQL.expiredCopies(cutoff: cutoff, limit: limit) { try db.execute(sql: statement) }
            }
            if let days = settings.attachmentsDays {
                let rows = try Row.fetchAll(db, sql: ContactDataSQL.expiredAttachments(cutoff: now.addingTimeInterval(-Double(days) * 86400).ms, limit: limit))
                let ids: [Int64] = rows.map { $0["id"] }
                for statement in ContactDataSQL.deleteAttachments(ids) where !ids.isEmpty { try db.execute(sql: statement) }
                outcome.attachmentsDeleted = ids.count
                outcome.files = rows.compactMap { $0["path"] }
            }
            return outcome
        }
    }

    public func eraseContact(_ contactId: Int64) async throws -> ErasureOutcome? {
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [contactId]) != nil else { return nil }
            let tickets = try Int64.fetchAll(db, sql: ContactDataSQL.tickets(contactId))
            let messages = try Int(fetchCount: db, ContactDataSQL.messages(contactId))
            let files = try String.fetchAll(db, sql: ContactDataSQL.files(contactId))
            let attachments = try Int.fetchOne(db, sql: "SELECT count(*) FROM attachments WHERE message_id IN (\(ContactDataSQL.messages(contactId)))") ?? 0
            // The external-content search index must hold exactly the rows its delete trigger
            // removes: messages not yet indexed are indexed first.
            try Self.catchUpSearchIndex(db)
            for statement in ContactDataSQL.erasure(contactId, tickets: tickets) { try db.execute(sql: statement) }
            try db.execute(sql: ContactDataSQL.webhookDeliveries(tickets: tickets, postgres: false))
            return ErasureOutcome(contactId: contactId, tickets: tickets.count, messages: messages, attachments: attachments, files: files)
        }
    }

    public func exportContact(_ contactId: Int64) async throws -> [String: [[String: ExportValue]]]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [contactId]) != nil else { return nil }
            var tables: [String: [[String: ExportValue]]] = [:]
            for (table, sql) in ContactDataSQL.export(contactId) {
                tables[table] = try Row.fetchAll(db, sql: sql).map { row in
                    var values: [String: ExportValue] = [:]
                    for (column, value) in row where !ContactDataSQL.hiddenColumns.contains(column) {
                        switch value.storage {
                        case .int64(let int): values[column] = .int(int)
                        case .double(let real): values[column] = .real(real)
                        case .string(let text): values[column] = .text(text)
                        case .blob(let data): values[column] = .text(data.base64EncodedString())
                        case .null: values[column] = .null
                        }
                    }
                    return values
                }
            }
            return tables
        }
    }

    public func systemStatus(errorLimit: Int) async throws -> SystemStatus {
        let path = database.pool.path
        let bytes = [path, path + "-wal"].reduce(Int64(0)) { sum, file in
            sum + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? 0)
        }
        return try await database.pool.read { db in
            let q = try Row.fetchOne(db, sql: ContactDataSQL.queueDepths)!
            let queues = QueueDepths(outbox: q[0], jobs: q[1], alertDeliveries: q[2], webhookDeliveries: q[3], campaignRecipients: q[4])
            let failures = try Row.fetchAll(db, sql: ContactDataSQL.sendFailures(limit: errorLimit)).map {
                RecentError.sendFailure(account: $0[0], code: $0[1], reason: $0[2], at: $0[3], ticketId: $0[4])
            }
            let unreadable = try Row.fetchAll(db, sql: ContactDataSQL.unreadable(limit: errorLimit)).map {
                RecentError(kind: "unreadable_event", at: Date(ms: $0[2]), account: $0[0], reason: $0[1], ticketId: nil)
            }
            return SystemStatus(databaseBytes: bytes, queues: queues, recentErrors: RecentError.merged(failures + unreadable, limit: errorLimit))
        }
    }

    public func recordAudit(_ entry: NewAuditEntry) async throws {
        try await database.pool.write { db in
            try db.execute(sql: ContactDataSQL.insertAudit, arguments: [
                entry.at.ms, entry.actorId, entry.actorName, entry.actorRole, entry.method, entry.route, entry.targetId, entry.summary, entry.status,
            ])
        }
    }

    public func auditLog(limit: Int, before: Int64?) async throws -> [AuditEntry] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: ContactDataSQL.selectAudit, arguments: [before ?? Int64.max, limit]).map {
                AuditEntry(id: $0["id"], NewAuditEntry(
                    at: Date(ms: $0["at"]), actorId: $0["actor_id"], actorName: $0["actor_name"], actorRole: $0["actor_role"], method: $0["method"],
                    route: $0["route"], targetId: $0["target_id"], summary: $0["summary"], status: $0["status"]))
            }
        }
    }

    /// Adds the messages committed since the search indexer's last run to the index and moves its
    /// cursor, as `indexNewMessages` would (in this transaction).
    static func catchUpSearchIndex(_ db: Database) throws {
        let cursor = try Int64.fetchOne(db, sql: "SELECT last_message_id FROM search_cursor WHERE id = 1") ?? 0
        guard let last = try Int64.fetchOne(db, sql: "SELECT max(id) FROM messages WHERE id > ?", arguments: [cursor]) else { return }
        try db.execute(sql: "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ? AND id <= ? ORDER BY id", arguments: [cursor, last])
        try db.execute(sql: "UPDATE search_cursor SET last_message_id = ? WHERE id = 1", arguments: [last])
    }
}

extension Int {
    /// The number of rows `sql` returns.
    init(fetchCount db: Database, _ sql: String) throws {
        self = try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(sql))") ?? 0
    }
}
