import Foundation
import GRDB

/// Where automation rules are kept, in their run order (`position`). One implementation per
/// database (`SQLiteRuleStore` below, `PostgresRuleStore` in PostgresStore), held to one contract
/// (Tests/StoreTests). Checking a rule and publishing are the domain's (`Inbox.createRule`).
///
/// **The rules feed starts from now.** While there are neither active rules nor business hours the
/// rules feed (`rules.log`) stands still; the first of either moves its cursor to the log's head
/// (`BusinessHoursStore.set` does the same), so it does not act on history.
public protocol RuleStore: Sendable {
    /// Adds a rule after the last one; returns it with its id and position.
    func create(_ rule: Rule, now: Date) async throws -> Rule

    /// Every rule, in run order (then id).
    func rules() async throws -> [Rule]

    /// Replaces what a rule holds (name, trigger, delay, conditions, actions, stop, active), keeping
    /// its id and place in the order; nil when there is no such rule. Turning on the first active
    /// rule starts the rules feed at the log's head, as `create` does, so it does not act on history.
    func update(_ rule: Rule) async throws -> Rule?

    /// Deletes a rule (and its runs); false when there was none.
    func delete(id: Int64) async throws -> Bool

    /// Puts the rules in this order and returns them; `invalidRuleOrder` (nothing changes) unless
    /// `ids` lists every rule exactly once.
    func reorder(_ ids: [Int64]) async throws -> [Rule]

    // MARK: The rules engine (`Inbox.runRules`)

    /// Up to `limit` entries of the event log past the `rules.log` cursor, as the triggers they are:
    /// a ticket opened, a customer's message, a status change not made by a rule (so rules cannot
    /// loop). Nil, reading nothing, while there are neither active rules nor business hours.
    /// The cursor does not move: the engine acts, then `moveRuleFeed(to: page.next)`.
    func ruleFeed(limit: Int) async throws -> RuleFeedPage?

    /// Moves the `rules.log` cursor forward to `seq` (never back).
    func moveRuleFeed(to seq: Int64) async throws

    /// The active rules of one trigger, in run order.
    func activeRules(_ trigger: Rule.Trigger) async throws -> [Rule]

    /// Up to `limit` tickets a `time_passed` rule is due on: in its status, last changed at or
    /// before `cutoff`, and not yet run for that last change (key `idle:<updated_at>`), oldest first.
    func idleTickets(for rule: Rule, cutoff: Date, limit: Int) async throws -> [IdleTicket]

    /// Whether every set condition holds for the ticket now (false for no such ticket). Text
    /// conditions read the message `messageId`, else the customer's latest message.
    func matches(_ conditions: Rule.Conditions, ticketId: Int64, messageId: Int64?, now: Date) async throws -> Bool

    /// Checks the rule's conditions and records its run on the ticket for `key` in one transaction,
    /// before its actions: a rule runs at most once per ticket and key, however many processes
    /// follow the feed (the run's row is unique; a second claim waits for the first and finds it).
    func claimRun(_ rule: Rule, ticketId: Int64, key: String, messageId: Int64?, now: Date) async throws -> RuleRunClaim

    /// A history entry a rule writes on a ticket (`notified`, `rule_action_failed`).
    func recordRuleEvent(ticketId: Int64, kind: String, by actor: String, detail: [String: String], at now: Date) async throws
}

/// What the rules feed read (`RuleStore.ruleFeed`).
public struct RuleFeedPage: Sendable, Equatable {
    /// The entries that trigger rules, in log order.
    public var events: [RuleFeedEvent]
    /// Where the cursor goes once they are handled.
    public var next: Int64
    /// Entries past `next` may be waiting (a full batch).
    public var more: Bool
    /// How many log entries of the followed kinds were read (triggers or not).
    public var read: Int

    public init(events: [RuleFeedEvent], next: Int64, more: Bool, read: Int) {
        self.events = events
        self.next = next
        self.more = more
        self.read = read
    }
}

/// One entry of the rules feed: which trigger, on which ticket, and the run key that makes a rule
/// act on it once (`ticket:<id>`, `message:<id>`, `event:<history id>`).
public struct RuleFeedEvent: Sendable, Equatable {
    public var trigger: Rule.Trigger
    public var ticketId: Int64
    public var key: String
    /// The customer's message, for `message_received`.
    public var messageId: Int64?

    public init(trigger: Rule.Trigger, ticketId: Int64, key: String, messageId: Int64? = nil) {
        self.trigger = trigger
        self.ticketId = ticketId
        self.key = key
        self.messageId = messageId
    }

    /// The trigger a log entry is, if any; `statusChanges` are the history ids that are status
    /// changes not made by a rule (read from `ticket_events`).
    package init?(_ event: LoggedEvent, statusChanges: Set<Int64>) {
        switch event.type {
        case .ticketOpened: self.init(trigger: .ticketCreated, ticketId: event.ticketId, key: "ticket:\(event.ticketId)")
        case .message:
            guard event.direction == MessageDirection.inbound.rawValue, let id = event.messageId else { return nil }
            self.init(trigger: .messageReceived, ticketId: event.ticketId, key: "message:\(id)", messageId: id)
        default:
            guard let id = event.historyId, statusChanges.contains(id) else { return nil }
            self.init(trigger: .statusChanged, ticketId: event.ticketId, key: "event:\(id)")
        }
    }

    /// The log's kinds the rules feed follows.
    package static let kinds: [LoggedEvent.Kind] = [.ticketOpened, .message, .history]
    /// The history kinds that are status changes (`status_changed` rules).
    package static let statusKinds = ["status", "marked_spam", "restored_from_spam"]
}

/// A ticket a time rule is due on, and when it last changed (its run key).
public struct IdleTicket: Sendable, Equatable {
    public var id: Int64
    public var updatedAt: Int64
    public var key: String { "idle:\(updatedAt)" }

    public init(id: Int64, updatedAt: Int64) {
        self.id = id
        self.updatedAt = updatedAt
    }
}

/// What claiming a rule's run found (`RuleStore.claimRun`).
public enum RuleRunClaim: Sendable, Equatable {
    /// The conditions hold and this call recorded the run: act.
    case claimed
    /// The conditions hold but the rule already ran for this ticket and key (another pass or
    /// process): do not act again, but a `stop` rule still ends the run.
    case alreadyRan
    case notMatched
}

extension Rule.Conditions {
    /// `tag` as stored (trimmed, lower-cased).
    package func storedTag() throws -> String? { try tag.map(Inbox.tag) }

    /// The checks made in Swift on the values a store read, the same on both databases.
    package func holds(
        status: String, departmentId: Int64?, channels used: Set<String>, hasTag: Bool, contactFields fields: [String: String], text: String?,
        hours: BusinessHours?, now: Date
    ) -> Bool {
        if let wanted = self.status, status != wanted.rawValue { return false }
        if let department = self.departmentId, departmentId != department { return false }  // a ticket may have no department
        if let channels, used.isDisjoint(with: channels) { return false }
        if tag != nil, !hasTag { return false }
        if let wanted = contactFields, !wanted.allSatisfy({ fields[$0.key] == $0.value }) { return false }
        let text = text ?? ""
        if let needle = textContains, !text.localizedCaseInsensitiveContains(needle) { return false }
        if let pattern = textMatches {
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]),
                regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            else { return false }
        }
        if let wanted = businessHours {
            let open = hours?.isOpen(at: now) ?? true
            if (wanted == "inside") != open { return false }
        }
        return true
    }

    /// Whether the store must read the message text.
    package var readsText: Bool { textContains != nil || textMatches != nil }
}

extension InboxError {
    public static let invalidRuleOrder = InboxError.unprocessable(code: "invalid_order", message: "list every rule id exactly once")
}

extension Rule {
    /// The stored row's columns back as a rule (both databases store the same JSON text).
    public init(
        id: Int64, position: Int, name: String, trigger: String, afterSeconds: Int?, storedConditions: String, storedActions: String, stop: Bool,
        active: Bool
    ) throws {
        self.init(
            id: id, position: position, name: name, trigger: Trigger(rawValue: trigger) ?? .ticketCreated, afterSeconds: afterSeconds,
            conditions: try ContentCoding.decode(Conditions.self, storedConditions), actions: try ContentCoding.decode([Action].self, storedActions),
            stop: stop, active: active)
    }
}

/// `RuleStore` on SQLite (one writer: the position and the feed's start commit with the rule).
public struct SQLiteRuleStore: RuleStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func create(_ rule: Rule, now: Date) async throws -> Rule {
        try await database.pool.write { db in
            try Self.startRulesFeedIfIdle(db)
            let position = (try Int.fetchOne(db, sql: "SELECT max(position) FROM rules") ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO rules (position, name, trigger, after_seconds, conditions, actions, stop, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    position, rule.name, rule.trigger.rawValue, rule.afterSeconds, try ContentCoding.encode(rule.conditions),
                    try ContentCoding.encode(rule.actions), rule.stop, rule.active, now.ms,
                ])
            var created = rule
            created.id = db.lastInsertedRowID
            created.position = position
            return created
        }
    }

    public func rules() async throws -> [Rule] {
        try await database.pool.read { db in try Self.rules(db, trigger: nil) }
    }

    public func update(_ rule: Rule) async throws -> Rule? {
        try await database.pool.write { db in
            if rule.active { try Self.startRulesFeedIfIdle(db) }
            try db.execute(sql: """
                UPDATE rules SET name = ?, trigger = ?, after_seconds = ?, conditions = ?, actions = ?, stop = ?, active = ? WHERE id = ?
                """, arguments: [
                    rule.name, rule.trigger.rawValue, rule.afterSeconds, try ContentCoding.encode(rule.conditions),
                    try ContentCoding.encode(rule.actions), rule.stop, rule.active, rule.id,
                ])
            guard db.changesCount == 1 else { return nil }
            return try Self.rules(db, trigger: nil).first { $0.id == rule.id }
        }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM rules WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func reorder(_ ids: [Int64]) async throws -> [Rule] {
        try await database.pool.write { db in
            let existing = Set(try Int64.fetchAll(db, sql: "SELECT id FROM rules"))
            guard Set(ids) == existing, ids.count == existing.count else { throw InboxError.invalidRuleOrder }
            for (index, id) in ids.enumerated() {
                try db.execute(sql: "UPDATE rules SET position = ? WHERE id = ?", arguments: [index + 1, id])
            }
            return try Self.rules(db, trigger: nil)
        }
    }

    /// Every rule (`trigger` nil), or the active rules of one trigger, in run order.
    static func rules(_ db: Database, trigger: Rule.Trigger?) throws -> [Rule] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM rules WHERE ? IS NULL OR (trigger = ? AND active = 1) ORDER BY position, id",
            arguments: [trigger?.rawValue, trigger?.rawValue]
        ).map {
            try Rule(
                id: $0["id"], position: $0["position"], name: $0["name"], trigger: $0["trigger"], afterSeconds: $0["after_seconds"],
                storedConditions: $0["conditions"], storedActions: $0["actions"], stop: $0["stop"], active: $0["active"])
        }
    }

    /// When neither active rules nor business hours exist, the rules' cursor stands still; the
    /// first of either moves it to now, so it does not act on history.
    static func startRulesFeedIfIdle(_ db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM rules WHERE active = 1) OR EXISTS (SELECT 1 FROM business_hours)") == false else {
            return
        }
        try Inbox.moveFeedToNow(db, "rules")
    }
}

// MARK: - The rules engine on SQLite

extension SQLiteRuleStore {
    public func ruleFeed(limit: Int) async throws -> RuleFeedPage? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM rules WHERE active = 1) OR EXISTS (SELECT 1 FROM business_hours)") == true else {
                return nil
            }
            let pending = try Inbox.pendingLog(db, "rules", types: RuleFeedEvent.kinds, limit: limit)
            let historyIds = pending.events.compactMap(\.historyId)
            let statusChanges = historyIds.isEmpty ? [] : Set(try Int64.fetchAll(db, sql: """
                SELECT id FROM ticket_events WHERE id IN (\(historyIds.map(String.init).joined(separator: ",")))
                    AND kind IN ('status', 'marked_spam', 'restored_from_spam') AND actor NOT LIKE 'rule:%'
                """))
            return RuleFeedPage(
                events: pending.events.compactMap { RuleFeedEvent($0, statusChanges: statusChanges) }, next: pending.next, more: pending.more,
                read: pending.events.count)
        }
    }

    public func moveRuleFeed(to seq: Int64) async throws {
        try await database.pool.write { db in try Inbox.moveLog(db, "rules", to: seq) }
    }

    public func activeRules(_ trigger: Rule.Trigger) async throws -> [Rule] {
        try await database.pool.read { db in try Self.rules(db, trigger: trigger) }
    }

    public func idleTickets(for rule: Rule, cutoff: Date, limit: Int) async throws -> [IdleTicket] {
        guard let status = rule.conditions.status else { return [] }
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.id, t.updated_at FROM tickets t WHERE t.status = ? AND t.updated_at <= ?
                    AND NOT EXISTS (SELECT 1 FROM rule_runs r WHERE r.rule_id = ? AND r.ticket_id = t.id AND r.key = 'idle:' || t.updated_at)
                ORDER BY t.updated_at, t.id LIMIT ?
                """, arguments: [status.rawValue, cutoff.ms, rule.id, limit]
            ).map { IdleTicket(id: $0["id"], updatedAt: $0["updated_at"]) }
        }
    }

    public func matches(_ conditions: Rule.Conditions, ticketId: Int64, messageId: Int64?, now: Date) async throws -> Bool {
        try await database.pool.read { db in try Self.matches(conditions, db, ticketId: ticketId, messageId: messageId, now: now) }
    }

    public func claimRun(_ rule: Rule, ticketId: Int64, key: String, messageId: Int64?, now: Date) async throws -> RuleRunClaim {
        try await database.pool.write { db in
            guard try Self.matches(rule.conditions, db, ticketId: ticketId, messageId: messageId, now: now) else { return .notMatched }
            try db.execute(
                sql: "INSERT OR IGNORE INTO rule_runs (rule_id, ticket_id, key, ran_at) VALUES (?, ?, ?, ?)", arguments: [rule.id, ticketId, key, now.ms])
            return db.changesCount == 1 ? .claimed : .alreadyRan
        }
    }

    public func recordRuleEvent(ticketId: Int64, kind: String, by actor: String, detail: [String: String], at now: Date) async throws {
        try await database.pool.write { db in try SQLiteTicketStore.record(db, ticketId: ticketId, kind, by: actor, detail, at: now.ms) }
    }

    static func matches(_ c: Rule.Conditions, _ db: Database, ticketId: Int64, messageId: Int64?, now: Date) throws -> Bool {
        guard let ticket = try Row.fetchOne(db, sql: "SELECT status, department_id, contact_id FROM tickets WHERE id = ?", arguments: [ticketId]) else {
            return false
        }
        let channels = c.channels == nil ? [] : Set(try String.fetchAll(db, sql: "SELECT channel FROM ticket_channels WHERE ticket_id = ?", arguments: [ticketId]))
        let hasTag = try c.storedTag().map {
            try Bool.fetchOne(db, sql: "SELECT 1 FROM ticket_tags WHERE ticket_id = ? AND tag = ?", arguments: [ticketId, $0]) != nil
        } ?? true
        let fields = c.contactFields == nil ? [:] : try Inbox.fieldValues(db, scope: .contact, subject: ticket["contact_id"])
        let text = c.readsText
            ? try messageId.flatMap { try String.fetchOne(db, sql: "SELECT text FROM messages WHERE id = ?", arguments: [$0]) }
                ?? String.fetchOne(db, sql: "SELECT text FROM messages WHERE ticket_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1", arguments: [ticketId])
            : nil
        let hours = c.businessHours == nil ? nil : try Inbox.businessHours(db, department: ticket["department_id"])
        return c.holds(
            status: ticket["status"], departmentId: ticket["department_id"], channels: channels, hasTag: hasTag, contactFields: fields, text: text,
            hours: hours, now: now)
    }
}
