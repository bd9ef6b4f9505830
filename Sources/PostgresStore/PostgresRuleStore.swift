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

    public func update(_ rule: Rule) async throws -> Rule? {
        let conditions = try ContentCoding.encode(rule.conditions)
        let actions = try ContentCoding.encode(rule.actions)
        return try await client.transaction(logger: logger) { connection in
            // Takes the cursor row's lock either way, like every rule write (see the type's note).
            try await Self.startRulesFeedIfIdle(connection, logger: logger, turningOn: rule.active)
            let updated = try await connection.query("""
                UPDATE rules SET name = \(rule.name), trigger = \(rule.trigger.rawValue), after_seconds = \(rule.afterSeconds.map(Int64.init)),
                    conditions = \(conditions), actions = \(actions), stop = \(rule.stop ? 1 : 0), active = \(rule.active ? 1 : 0)
                WHERE id = \(rule.id) RETURNING id
                """, logger: logger).decode(Int64.self).all()
            guard !updated.isEmpty else { return nil }
            return try await Self.rules(connection, logger: logger).first { $0.id == rule.id }
        }
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

    /// Every rule (`trigger` nil), or the active rules of one trigger, in run order.
    static func rules(_ connection: PostgresConnection, trigger: Rule.Trigger? = nil, logger: Logger) async throws -> [Rule] {
        let rows = try await connection.query("""
            SELECT id, position, name, trigger, after_seconds, conditions, actions, stop, active FROM rules
            WHERE \(trigger?.rawValue)::text IS NULL OR (trigger = \(trigger?.rawValue) AND active = 1) ORDER BY position, id
            """, logger: logger)
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
    static func startRulesFeedIfIdle(_ connection: PostgresConnection, logger: Logger, turningOn: Bool = true) async throws {
        try await connection.query("SELECT last_id FROM feed_cursors WHERE name = 'rules.log' FOR UPDATE", logger: logger)
        guard turningOn else { return }
        try await connection.query("""
            UPDATE feed_cursors SET last_id = (SELECT seq FROM event_seq)
            WHERE name = 'rules.log' AND NOT EXISTS (SELECT 1 FROM rules WHERE active = 1) AND NOT EXISTS (SELECT 1 FROM business_hours)
            """, logger: logger)
    }
}

// MARK: - The rules engine on PostgreSQL

/// Several processes may follow the rules feed at once (see `Inbox.runRules`): the once-per-event
/// guarantee is the `rule_runs` row, inserted `ON CONFLICT DO NOTHING` in the transaction that
/// checks the conditions (a second process's insert waits for the first's commit and finds it),
/// and the cursor only moves forward (`GREATEST`).
extension PostgresRuleStore {
    public func ruleFeed(limit: Int) async throws -> RuleFeedPage? {
        try await client.withConnection { connection in
            let live = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM rules WHERE active = 1) OR EXISTS (SELECT 1 FROM business_hours)", logger: logger
            ).decode(Bool.self).all()
            guard live.first == true else { return nil }
            let read = try await PostgresFeedRead.read(
                connection, cursor: "rules.log", kinds: RuleFeedEvent.kinds, limit: limit, lockingCursor: false, logger: logger)
            let historyIds = read.events.compactMap(\.historyId)
            let statusChanges = historyIds.isEmpty ? [] : Set(try await connection.query("""
                SELECT id FROM ticket_events WHERE id = ANY(\(historyIds)) AND kind = ANY(\(RuleFeedEvent.statusKinds)) AND actor NOT LIKE 'rule:%'
                """, logger: logger).decode(Int64.self).all())
            return RuleFeedPage(
                events: read.events.compactMap { RuleFeedEvent($0, statusChanges: statusChanges) }, next: read.next,
                more: read.events.count == limit,
                read: read.events.count)
        }
    }

    public func moveRuleFeed(to seq: Int64) async throws {
        try await client.query("""
            INSERT INTO feed_cursors (name, last_id) VALUES ('rules.log', \(seq))
            ON CONFLICT (name) DO UPDATE SET last_id = GREATEST(feed_cursors.last_id, excluded.last_id)
            """, logger: logger)
    }

    public func activeRules(_ trigger: Rule.Trigger) async throws -> [Rule] {
        try await client.withConnection { try await Self.rules($0, trigger: trigger, logger: logger) }
    }

    public func idleTickets(for rule: Rule, cutoff: Date, limit: Int) async throws -> [IdleTicket] {
        guard let status = rule.conditions.status else { return [] }
        return try await client.query("""
            SELECT t.id, t.updated_at FROM tickets t WHERE t.status = \(status.rawValue) AND t.updated_at <= \(cutoff.ms)
                AND NOT EXISTS (SELECT 1 FROM rule_runs r WHERE r.rule_id = \(rule.id) AND r.ticket_id = t.id AND r.key = 'idle:' || t.updated_at)
            ORDER BY t.updated_at, t.id LIMIT \(Int64(limit))
            """, logger: logger).decode((Int64, Int64).self).all().map { IdleTicket(id: $0.0, updatedAt: $0.1) }
    }

    public func matches(_ conditions: Rule.Conditions, ticketId: Int64, messageId: Int64?, now: Date) async throws -> Bool {
        try await client.withConnection { connection in
            try await matches(conditions, on: connection, ticketId: ticketId, messageId: messageId, now: now)
        }
    }

    public func claimRun(_ rule: Rule, ticketId: Int64, key: String, messageId: Int64?, now: Date) async throws -> RuleRunClaim {
        try await client.transaction(logger: logger) { connection in
            guard try await matches(rule.conditions, on: connection, ticketId: ticketId, messageId: messageId, now: now) else { return .notMatched }
            let inserted = try await connection.query("""
                INSERT INTO rule_runs (rule_id, ticket_id, key, ran_at) VALUES (\(rule.id), \(ticketId), \(key), \(now.ms))
                ON CONFLICT (rule_id, ticket_id, key) DO NOTHING RETURNING rule_id
                """, logger: logger).decode(Int64.self).all()
            return inserted.isEmpty ? .alreadyRan : .claimed
        }
    }

    public func recordRuleEvent(ticketId: Int64, kind: String, by actor: String, detail: [String: String], at now: Date) async throws {
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            try await PostgresTicketHistory.record(ticketId, kind, by: actor, detail, at: now.ms, on: connection, logger: logger)
        }
    }

    /// What `Rule.Conditions.holds` needs, read on `connection`; the hours (rarely a condition)
    /// are read through the hours store.
    private func matches(_ c: Rule.Conditions, on connection: PostgresConnection, ticketId: Int64, messageId: Int64?, now: Date) async throws -> Bool {
        let tickets = try await connection.query(
            "SELECT status, department_id, contact_id FROM tickets WHERE id = \(ticketId)", logger: logger
        ).decode((String, Int64?, Int64).self).all()
        guard let (status, departmentId, contactId) = tickets.first else { return false }
        let channels = c.channels == nil ? [] : Set(try await connection.query(
            "SELECT channel FROM ticket_channels WHERE ticket_id = \(ticketId)", logger: logger).decode(String.self).all())
        var hasTag = true
        if let tag = try c.storedTag() {
            hasTag = !(try await connection.query(
                "SELECT 1 FROM ticket_tags WHERE ticket_id = \(ticketId) AND tag = \(tag)", logger: logger).decode(Int32.self).all()).isEmpty
        }
        var fields: [String: String] = [:]
        if c.contactFields != nil {
            for (key, value) in try await connection.query("""
                SELECT f.key, v.value FROM contact_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.contact_id = \(contactId)
                """, logger: logger).decode((String, String).self).all() {
                fields[key] = value
            }
        }
        var text: String?
        if c.readsText {
            if let messageId {
                text = try await connection.query("SELECT text FROM messages WHERE id = \(messageId)", logger: logger).decode(String.self).all().first
            }
            if text == nil {
                text = try await connection.query("""
                    SELECT text FROM messages WHERE ticket_id = \(ticketId) AND direction = 'in' ORDER BY id DESC LIMIT 1
                    """, logger: logger).decode(String.self).all().first
            }
        }
        let hours = c.businessHours == nil ? nil : try await PostgresBusinessHoursStore(client: client, logger: logger).hours(department: departmentId)
        return c.holds(
            status: status, departmentId: departmentId, channels: channels, hasTag: hasTag, contactFields: fields, text: text, hours: hours, now: now)
    }
}
