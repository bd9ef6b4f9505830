import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `RuleStore` on PostgreSQL, for several bridge processes on one database.
///
/// **Rule writes take turns on the `rules.log` cursor row** (`FOR UPDATE`, also taken by
/// `PostgresBusinessHoursStore.set`): two processes adding rules at once get distinct positions
/// (the second reads the order after the first commits), and of two first rules or hours only the
/// first moves the idle feed to the log's head (the second then sees it and leaves the cursor,
/// which the feed may already have moved past entries it acted on).
public struct PostgresRuleStore: RuleStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(_ rule: Rule, now: Date) async throws -> Rule {
        let conditions = try ContentCoding.encode(rule.conditions)
        let actions = try ContentCoding.encode(rule.actions)
        return try await client.transaction(logger: logger) { connection in
            try await Self.startRulesFeedIfIdle(connection, logger: logger)
            let rows = try await connection.query("""
                INSERT INTO rules (position, name, trigger, after_seconds, conditions, actions, stop, active, created_at)
                SELECT coalesce(max(position), 0) + 1, \(rule.name), \(rule.trigger.rawValue), \(rule.afterSeconds.map(Int64.init)), \(conditions),
                    \(actions), \(rule.stop ? 1 : 0), \(rule.active ? 1 : 0), \(now.ms) FROM rules
                RETURNING id, position
                """, logger: logger).decode((Int64, Int).self).all()
            guard let (id, position) = rows.first else { preconditionFailure("INSERT ... RETURNING gave no row") }
            var created = rule
            created.id = id
            created.position = position
            return created
        }
    }

    public func rules() async throws -> [Rule] {
        try await client.withConnection { try await Self.rules($0, logger: logger) }
    }

    public func delete(id: Int64) async throws -> Bool {
        !(try await client.query("DELETE FROM rules WHERE id = \(id) RETURNING id", logger: logger).decode(Int64.self).all()).isEmpty
    }

    public func reorder(_ ids: [Int64]) async throws -> [Rule] {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT last_id FROM feed_cursors WHERE name = 'rules.log' FOR UPDATE", logger: logger)
            let existing = Set(try await connection.query("SELECT id FROM rules", logger: logger).decode(Int64.self).all())
            guard Set(ids) == existing, ids.count == existing.count else { throw InboxError.invalidRuleOrder }
            let positions = ids.indices.map { Int64($0 + 1) }
            try await connection.query("""
                UPDATE rules SET position = o.position FROM unnest(\(ids)::bigint[], \(positions)::bigint[]) AS o(id, position) WHERE rules.id = o.id
                """, logger: logger)
            return try await Self.rules(connection, logger: logger)
        }
    }

    static func rules(_ connection: PostgresConnection, logger: Logger) async throws -> [Rule] {
        let rows = try await connection.query(
            "SELECT id, position, name, trigger, after_seconds, conditions, actions, stop, active FROM rules ORDER BY position, id", logger: logger)
        var rules: [Rule] = []
        for try await (id, position, name, trigger, afterSeconds, conditions, actions, stop, active)
            in rows.decode((Int64, Int, String, String, Int64?, String, String, Int, Int).self)
        {
            rules.append(try Rule(
                id: id, position: position, name: name, trigger: trigger, afterSeconds: afterSeconds.map(Int.init), storedConditions: conditions,
                storedActions: actions, stop: stop != 0, active: active != 0))
        }
        return rules
    }

    /// Locks the `rules.log` cursor row, then (seeing what committed before the lock was granted)
    /// moves it to the log's head when there are neither active rules nor business hours.
    static func startRulesFeedIfIdle(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT last_id FROM feed_cursors WHERE name = 'rules.log' FOR UPDATE", logger: logger)
        try await connection.query("""
            UPDATE feed_cursors SET last_id = (SELECT seq FROM event_seq)
            WHERE name = 'rules.log' AND NOT EXISTS (SELECT 1 FROM rules WHERE active = 1) AND NOT EXISTS (SELECT 1 FROM business_hours)
            """, logger: logger)
    }
}
