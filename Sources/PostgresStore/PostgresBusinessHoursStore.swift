import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `BusinessHoursStore` on PostgreSQL. Setting hours takes its turn on the `rules.log` cursor row
/// as rule writes do (`PostgresRuleStore`), so the first hours or rule starts the feed once.
public struct PostgresBusinessHoursStore: BusinessHoursStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func set(_ hours: BusinessHours, department: Int64?, now: Date) async throws {
        let weekly = try ContentCoding.encode(hours.weekly)
        let holidays = try ContentCoding.encode(hours.holidays)
        try await client.transaction(logger: logger) { connection in
            if let department {
                // Locked, so a department deleted meanwhile is not given hours.
                let found = try await connection.query("SELECT id FROM departments WHERE id = \(department) FOR SHARE", logger: logger)
                    .decode(Int64.self).all()
                guard !found.isEmpty else { throw InboxError.notFound("department \(department)") }
            }
            try await PostgresRuleStore.startRulesFeedIfIdle(connection, logger: logger)
            try await connection.query("""
                INSERT INTO business_hours (department_id, time_zone, weekly, holidays, acknowledgement, out_of_hours_reply, updated_at)
                VALUES (\(department ?? 0), \(hours.timeZone), \(weekly), \(holidays), \(hours.acknowledgement), \(hours.outOfHoursReply), \(now.ms))
                ON CONFLICT (department_id) DO UPDATE SET time_zone = excluded.time_zone, weekly = excluded.weekly, holidays = excluded.holidays,
                    acknowledgement = excluded.acknowledgement, out_of_hours_reply = excluded.out_of_hours_reply, updated_at = excluded.updated_at
                """, logger: logger)
        }
    }

    public func hours(department: Int64?) async throws -> BusinessHours? {
        let rows = try await client.query("""
            SELECT time_zone, weekly, holidays, acknowledgement, out_of_hours_reply FROM business_hours
            WHERE department_id IN (\(department ?? 0), 0) ORDER BY department_id DESC LIMIT 1
            """, logger: logger)
        for try await (timeZone, weekly, holidays, acknowledgement, reply) in rows.decode((String, String, String, String?, String?).self) {
            return try BusinessHours(timeZone: timeZone, storedWeekly: weekly, storedHolidays: holidays, acknowledgement: acknowledgement, outOfHoursReply: reply)
        }
        return nil
    }

    public func clear(department: Int64) async throws -> Bool {
        let rows = try await client.query("""
            WITH gone AS (DELETE FROM business_hours WHERE department_id = \(department) AND department_id <> 0 RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM departments WHERE id = \(department)), EXISTS (SELECT 1 FROM gone)
            """, logger: logger).decode((Bool, Bool).self).all()
        guard let (found, removed) = rows.first, found else { throw InboxError.notFound("department \(department)") }
        return removed
    }
}
