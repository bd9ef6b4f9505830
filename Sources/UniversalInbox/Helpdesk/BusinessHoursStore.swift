import Foundation
import GRDB

/// Where business hours are kept: one set per department, and the default set (department 0) for
/// tickets without one. One implementation per database (`SQLiteBusinessHoursStore` below,
/// `PostgresBusinessHoursStore` in PostgresStore), held to one contract (Tests/StoreTests).
/// Checking the hours is the domain's (`Inbox.setBusinessHours`). The first hours (like the first
/// active rule, see `RuleStore`) start the rules feed from the log's head.
public protocol BusinessHoursStore: Sendable {
    /// Sets a department's hours (nil: the default hours), replacing what it had; `notFound` (and
    /// nothing changes) when there is no such department.
    func set(_ hours: BusinessHours, department: Int64?, now: Date) async throws

    /// The department's hours, else the default hours; nil when neither is set.
    func hours(department: Int64?) async throws -> BusinessHours?

    /// Removes a department's own hours, so the default hours apply to it again; false when it had
    /// none. `notFound` when there is no such department.
    func clear(department: Int64) async throws -> Bool
}

extension BusinessHours {
    /// The stored row's columns back as hours (both databases store the same JSON text).
    public init(timeZone: String, storedWeekly: String, storedHolidays: String, acknowledgement: String?, outOfHoursReply: String?) throws {
        self.init(
            timeZone: timeZone, weekly: try ContentCoding.decode([String: [[String]]].self, storedWeekly),
            holidays: try ContentCoding.decode([String].self, storedHolidays), acknowledgement: acknowledgement, outOfHoursReply: outOfHoursReply)
    }
}

/// `BusinessHoursStore` on SQLite.
public struct SQLiteBusinessHoursStore: BusinessHoursStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func set(_ hours: BusinessHours, department: Int64?, now: Date) async throws {
        try await database.pool.write { db in
            if let department, try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [department]) == nil {
                throw InboxError.notFound("department \(department)")
            }
            try SQLiteRuleStore.startRulesFeedIfIdle(db)
            try db.execute(sql: """
                INSERT OR REPLACE INTO business_hours (department_id, time_zone, weekly, holidays, acknowledgement, out_of_hours_reply, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    department ?? 0, hours.timeZone, try ContentCoding.encode(hours.weekly), try ContentCoding.encode(hours.holidays),
                    hours.acknowledgement, hours.outOfHoursReply, now.ms,
                ])
        }
    }

    public func hours(department: Int64?) async throws -> BusinessHours? {
        try await database.pool.read { db in try Inbox.businessHours(db, department: department) }
    }

    public func clear(department: Int64) async throws -> Bool {
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [department]) != nil else {
                throw InboxError.notFound("department \(department)")
            }
            try db.execute(sql: "DELETE FROM business_hours WHERE department_id = ?", arguments: [department])
            return db.changesCount == 1
        }
    }
}
