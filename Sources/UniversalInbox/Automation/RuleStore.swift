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

    /// Deletes a rule (and its runs); false when there was none.
    func delete(id: Int64) async throws -> Bool

    /// Puts the rules in this order and returns them; `invalidRuleOrder` (nothing changes) unless
    /// `ids` lists every rule exactly once.
    func reorder(_ ids: [Int64]) async throws -> [Rule]
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
