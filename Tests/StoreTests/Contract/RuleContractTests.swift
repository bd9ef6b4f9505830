import Foundation
import Testing
import UniversalInbox

/// `RuleStore` and `BusinessHoursStore` as every implementation must keep them: rules in run order
/// (added last, reordered only with every id once), hours per department falling back to the
/// default, and the rules feed started at the log's head by the first active rule or hours only;
/// two processes adding rules at once give each its own position.
@Suite struct RuleContractTests {
    static func tagRule(_ name: String, active: Bool = true) -> Rule {
        var action = Rule.Action(type: .addTag)
        action.tag = name
        var conditions = Rule.Conditions()
        conditions.textContains = "refund"
        conditions.channels = ["line"]
        return Rule(name: name, trigger: .messageReceived, conditions: conditions, actions: [action], stop: true, active: active)
    }

    static let ticket = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'new', 1, 1, 1)",
    ]

    static func rulesCursor(_ stores: Stores) async throws -> [[PlainSQL.Value]] {
        try await stores.sql.rows("SELECT last_id FROM feed_cursors WHERE name = 'rules.log'")
    }

    @Test(arguments: StoreKind.available)
    func rulesKeepTheirOrderAndWhatTheyHold(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let rules = stores.ruleStore
            var timed = Rule(name: "Idle", trigger: .timePassed, afterSeconds: 3600, actions: [Rule.Action(type: .setStatus)])
            timed.conditions.status = .pending
            timed.actions[0].status = .resolved
            let a = try await rules.create(Self.tagRule("a"), now: Date(ms: 1))
            let b = try await rules.create(timed, now: Date(ms: 2))
            let c = try await rules.create(Self.tagRule("c", active: false), now: Date(ms: 3))
            #expect([a, b, c].map(\.position) == [1, 2, 3] as [Int])
            #expect(Set([a.id, b.id, c.id]).count == 3)
            #expect(b.afterSeconds == 3600)
            #expect(b.conditions == timed.conditions)
            #expect(b.actions == timed.actions)
            #expect(try await rules.rules() == [a, b, c])

            var reordered = try await rules.reorder([c.id, a.id, b.id])
            #expect(reordered.map(\.id) == [c.id, a.id, b.id])
            #expect(reordered.map(\.position) == [1, 2, 3])
            #expect(try await rules.rules() == reordered)
            for wrong in [[c.id, a.id], [c.id, a.id, b.id, b.id], [c.id, a.id, 999]] {
                await #expect(throws: InboxError.invalidRuleOrder) { try await rules.reorder(wrong) }
            }
            #expect(try await rules.rules() == reordered)

            #expect(try await rules.delete(id: a.id))
            #expect(try await !rules.delete(id: a.id))
            reordered.remove(at: 1)
            #expect(try await rules.rules() == reordered)
            let d = try await rules.create(Self.tagRule("d"), now: Date(ms: 4))
            #expect(d.position == 4)
        }
    }

    /// A rule changed in place keeps its id and position; the first rule turned on starts the
    /// rules feed at the log's head (not history); no such rule is nil.
    @Test(arguments: StoreKind.available)
    func aChangedRuleKeepsItsPlace(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let rules = stores.ruleStore
            let a = try await rules.create(Self.tagRule("a", active: false), now: Date(ms: 1))
            let b = try await rules.create(Self.tagRule("b", active: false), now: Date(ms: 2))
            #expect(try await rules.ruleFeed(limit: 10) == nil)
            var changed = a
            changed.name = "a2"
            changed.trigger = .ticketCreated
            changed.conditions = Rule.Conditions()
            changed.actions[0].tag = "other"
            changed.stop = false
            changed.active = true
            let updated = try await rules.update(changed)
            #expect(updated == changed)
            #expect(try await rules.rules() == [changed, b])
            #expect(try await rules.ruleFeed(limit: 10) != nil)
            var missing = changed
            missing.id = 9999
            #expect(try await rules.update(missing) == nil)
            #expect(try await rules.rules() == [changed, b])
        }
    }

    @Test(arguments: StoreKind.available)
    func hoursFallBackToTheDefault(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await stores.sql.execute("INSERT INTO departments (id, name, created_at) VALUES (5, 'Support', 1), (6, 'Sales', 1)")
            let hours = stores.businessHoursStore
            #expect(try await hours.hours(department: nil) == nil)
            #expect(try await hours.hours(department: 5) == nil)
            let standard = BusinessHours(timeZone: "UTC", weekly: ["mon": [["09:00", "17:00"]]], holidays: ["2026-12-25"], acknowledgement: "Hi {{name}}")
            try await hours.set(standard, department: nil, now: Date(ms: 1))
            #expect(try await hours.hours(department: nil) == standard)
            #expect(try await hours.hours(department: 5) == standard)
            let support = BusinessHours(timeZone: "Asia/Tokyo", weekly: ["tue": [["10:00", "12:00"], ["13:00", "19:00"]]], outOfHoursReply: "Closed")
            try await hours.set(support, department: 5, now: Date(ms: 2))
            #expect(try await hours.hours(department: 5) == support)
            #expect(try await hours.hours(department: 6) == standard)
            #expect(try await hours.hours(department: nil) == standard)
            let replaced = BusinessHours(timeZone: "Europe/Paris", weekly: [:])
            try await hours.set(replaced, department: 5, now: Date(ms: 3))
            #expect(try await hours.hours(department: 5) == replaced)
            await #expect(throws: InboxError.notFound("department 99")) {
                try await hours.set(standard, department: 99, now: Date(ms: 4))
            }
            #expect(try await hours.hours(department: 99) == standard)
            #expect(try await stores.sql.rows("SELECT count(*) FROM business_hours") == [[.int(2)]])
        }
    }

    /// Without active rules or hours the feed stands still: every rule write moves it to the log's
    /// head (an inactive rule does not wake it); once there is an active rule or hours, later
    /// writes leave it where the feed has it.
    @Test(arguments: StoreKind.available)
    func theFirstActiveRuleStartsTheRulesFeedAtTheLogsHead(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.ticket { try await stores.sql.execute(sql) }
            let head = try await stores.eventLog.head()
            #expect(head > 0)
            _ = try await stores.ruleStore.create(Self.tagRule("off", active: false), now: Date(ms: 1))
            #expect(try await Self.rulesCursor(stores) == [[.int(head)]])
            try await stores.sql.execute("UPDATE tickets SET status = 'open' WHERE id = 1")
            let started = try await stores.eventLog.head()
            #expect(started > head)
            _ = try await stores.ruleStore.create(Self.tagRule("on"), now: Date(ms: 2))
            #expect(try await Self.rulesCursor(stores) == [[.int(started)]])
            try await stores.sql.execute("UPDATE tickets SET status = 'pending' WHERE id = 1")
            #expect(try await stores.eventLog.head() > started)
            try await stores.businessHoursStore.set(BusinessHours(timeZone: "UTC", weekly: [:]), department: nil, now: Date(ms: 3))
            _ = try await stores.ruleStore.create(Self.tagRule("more"), now: Date(ms: 4))
            #expect(try await Self.rulesCursor(stores) == [[.int(started)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func theFirstHoursStartTheRulesFeedToo(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.ticket { try await stores.sql.execute(sql) }
            let head = try await stores.eventLog.head()
            try await stores.businessHoursStore.set(BusinessHours(timeZone: "UTC", weekly: [:]), department: nil, now: Date(ms: 1))
            #expect(try await Self.rulesCursor(stores) == [[.int(head)]])
            try await stores.sql.execute("UPDATE tickets SET status = 'open' WHERE id = 1")
            _ = try await stores.ruleStore.create(Self.tagRule("on"), now: Date(ms: 2))
            #expect(try await Self.rulesCursor(stores) == [[.int(head)]])
        }
    }

    /// Two processes adding rules at once: every rule gets its own place in the order.
    @Test func twoProcessesAddingRulesGiveEachItsOwnPosition() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes throws in
            let created = try await withThrowingTaskGroup(of: Rule.self) { group in
                for index in 0..<20 {
                    let process = processes[index % 2]
                    group.addTask { try await process.ruleStore.create(Self.tagRule("r\(index)"), now: Date(ms: Int64(index))) }
                }
                return try await group.reduce(into: [Rule]()) { $0.append($1) }
            }
            #expect(created.map(\.position).sorted() == Array(1...20))
            #expect(try await processes[1].ruleStore.rules().map(\.position) == Array(1...20))
        }
    }
}
