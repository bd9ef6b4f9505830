import Foundation
import Testing
import UniversalInbox

/// `RuleStore`'s part in the rules engine as every implementation must keep it: the feed reads
/// the log's entries that trigger rules (not the rules' own status changes, not outbound messages)
/// without moving until told, and moves only forward; conditions give the same answers on both
/// databases; a rule's run is claimed once per ticket and key, also by two processes at once.
@Suite struct RuleEngineContractTests {

    static func message(_ ticketId: Int64, _ direction: String, _ text: String, key: String) -> String {
        """
        INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (\(ticketId), 1, '\(direction)', 'line', 'line/main', '{}', '\(text)', 'received', '\(key)', 5, 5) RETURNING id
        """
    }

    static func history(_ ticketId: Int64, _ kind: String, by actor: String) -> String {
        "INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (\(ticketId), '\(kind)', '\(actor)', '{}', 6) RETURNING id"
    }

    static func anyMessageRule(_ name: String, trigger: Rule.Trigger = .messageReceived, stop: Bool = false) -> Rule {
        var action = Rule.Action(type: .addTag)
        action.tag = name
        return Rule(name: name, trigger: trigger, actions: [action], stop: stop)
    }

    @Test(arguments: StoreKind.available)
    func theFeedReadsWhatTriggersRulesAndMovesOnlyForward(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in RuleContractTests.ticket { try await stores.sql.execute(sql) }
            let rules = stores.ruleStore
            // Neither rules nor hours: the feed stands still.
            #expect(try await rules.ruleFeed(limit: 10) == nil)
            _ = try await rules.create(Self.anyMessageRule("a"), now: Date(ms: 1))
            let start = try await stores.eventLog.head()
            #expect(try await rules.ruleFeed(limit: 10) == RuleFeedPage(events: [], next: start, more: false, read: 0))

            try await stores.sql.execute("INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (2, 1, 'new', 1, 2, 2)")
            let inbound = try await stores.sql.int64(Self.message(2, "in", "hello", key: "k1"))
            _ = try await stores.sql.int64(Self.message(2, "out", "hi", key: "k2"))
            try await stores.sql.execute("INSERT INTO ticket_notes (ticket_id, author, text, created_at) VALUES (2, 'Ann', 'note', 7)")
            let byAgent = try await stores.sql.int64(Self.history(2, "status", by: "agent:7"))
            _ = try await stores.sql.int64(Self.history(2, "status", by: "rule:1"))
            _ = try await stores.sql.int64(Self.history(2, "assigned", by: "agent:7"))
            let spam = try await stores.sql.int64(Self.history(1, "marked_spam", by: "agent:7"))
            let head = try await stores.eventLog.head()

            let expected: [RuleFeedEvent] = [
                RuleFeedEvent(trigger: .ticketCreated, ticketId: 2, key: "ticket:2"),
                RuleFeedEvent(trigger: .messageReceived, ticketId: 2, key: "message:\(inbound)", messageId: inbound),
                RuleFeedEvent(trigger: .statusChanged, ticketId: 2, key: "event:\(byAgent)"),
                RuleFeedEvent(trigger: .statusChanged, ticketId: 1, key: "event:\(spam)"),
            ]
            let all = try #require(try await rules.ruleFeed(limit: 50))
            #expect(all.events == expected)
            #expect(all.next == head && !all.more && all.read == 7)
            #expect(try await rules.ruleFeed(limit: 50) == all)  // reading does not move the cursor

            // A full batch ends at its last entry (the inbound message).
            let first = try #require(try await rules.ruleFeed(limit: 2))
            #expect(first.events == Array(expected[0..<2]) && first.more && first.next < head)
            try await rules.moveRuleFeed(to: first.next)
            #expect(try await rules.ruleFeed(limit: 50)?.events == Array(expected[2...]))
            try await rules.moveRuleFeed(to: start)  // never back
            #expect(try await rules.ruleFeed(limit: 50)?.events == Array(expected[2...]))
            try await rules.moveRuleFeed(to: head)
            #expect(try await rules.ruleFeed(limit: 50) == RuleFeedPage(events: [], next: head, more: false, read: 0))
        }
    }

    /// Ticket 1 (open, department 5, on LINE, tagged vip, Kim on the gold plan) with a refund
    /// request, then "thanks" as the customer's latest message and an outbound "ok" after it;
    /// department 5 is open on Mondays 09:00-17:00 UTC. Ticket 2 has no department (no hours).
    @Test(arguments: StoreKind.available)
    func conditionsGiveTheSameAnswersOnBothDatabases(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in RuleContractTests.ticket { try await stores.sql.execute(sql) }
            for sql in [
                "INSERT INTO departments (id, name, created_at) VALUES (5, 'Support', 1), (6, 'Sales', 1)",
                "UPDATE tickets SET status = 'open', department_id = 5 WHERE id = 1",
                "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (2, 1, 'new', 1, 2, 2)",
                "INSERT INTO ticket_channels (ticket_id, channel) VALUES (1, 'line')",
                "INSERT INTO ticket_tags (ticket_id, tag) VALUES (1, 'vip')",
                "INSERT INTO custom_fields (id, scope, key, label, type, created_at) VALUES (1, 'contact', 'plan', 'Plan', 'text', 1)",
                "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (1, 1, 'gold')",
            ] {
                try await stores.sql.execute(sql)
            }
            let refund = try await stores.sql.int64(Self.message(1, "in", "I want a REFUND please", key: "k1"))
            _ = try await stores.sql.int64(Self.message(1, "in", "thanks", key: "k2"))
            _ = try await stores.sql.int64(Self.message(1, "out", "ok", key: "k3"))
            try await stores.businessHoursStore.set(BusinessHours(timeZone: "UTC", weekly: ["mon": [["09:00", "17:00"]]]), department: 5, now: Date(ms: 1))
            let monday = Date(timeIntervalSince1970: 1_796_032_800)  // 2026-11-30 10:00 UTC, a Monday
            let sunday = monday.addingTimeInterval(-86400)

            func when(_ change: (inout Rule.Conditions) -> Void) -> Rule.Conditions {
                var conditions = Rule.Conditions()
                change(&conditions)
                return conditions
            }
            let cases: [(Rule.Conditions, ticket: Int64, message: Int64?, now: Date, holds: Bool)] = [
                (Rule.Conditions(), 1, nil, monday, true),
                (Rule.Conditions(), 99, nil, monday, false),
                (when { $0.status = .open }, 1, nil, monday, true),
                (when { $0.status = .pending }, 1, nil, monday, false),
                (when { $0.departmentId = 5 }, 1, nil, monday, true),
                (when { $0.departmentId = 6 }, 1, nil, monday, false),
                (when { $0.departmentId = 5 }, 2, nil, monday, false),
                (when { $0.channels = ["whatsapp", "line"] }, 1, nil, monday, true),
                (when { $0.channels = ["sms"] }, 1, nil, monday, false),
                (when { $0.channels = ["line"] }, 2, nil, monday, false),
                (when { $0.tag = " VIP " }, 1, nil, monday, true),
                (when { $0.tag = "gold" }, 1, nil, monday, false),
                (when { $0.contactFields = ["plan": "gold"] }, 1, nil, monday, true),
                (when { $0.contactFields = ["plan": "silver"] }, 1, nil, monday, false),
                (when { $0.contactFields = ["region": "eu"] }, 1, nil, monday, false),
                (when { $0.textContains = "refund" }, 1, refund, monday, true),
                (when { $0.textContains = "refund" }, 1, nil, monday, false),  // the latest customer message is "thanks"
                (when { $0.textContains = "THANKS" }, 1, nil, monday, true),
                (when { $0.textContains = "ok" }, 1, nil, monday, false),  // not the customer's
                (when { $0.textContains = "hello" }, 2, nil, monday, false),  // no message at all
                (when { $0.textMatches = "ref+und\\b" }, 1, refund, monday, true),
                (when { $0.textMatches = "^thanks$" }, 1, nil, monday, true),
                (when { $0.textMatches = "^refund" }, 1, refund, monday, false),
                (when { $0.businessHours = "inside" }, 1, nil, monday, true),
                (when { $0.businessHours = "outside" }, 1, nil, monday, false),
                (when { $0.businessHours = "outside" }, 1, nil, sunday, true),
                (when { $0.businessHours = "inside" }, 2, nil, sunday, true),  // no hours: always open
                (when { $0.businessHours = "outside" }, 2, nil, sunday, false),
                (when { $0.status = .open; $0.tag = "vip"; $0.channels = ["line"]; $0.textContains = "refund" }, 1, refund, monday, true),
                (when { $0.status = .open; $0.tag = "vip"; $0.channels = ["line"]; $0.businessHours = "outside" }, 1, refund, monday, false),
            ]
            for (index, c) in cases.enumerated() {
                let holds = try await stores.ruleStore.matches(c.0, ticketId: c.ticket, messageId: c.message, now: c.now)
                #expect(holds == c.holds, "case \(index)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aRuleRunsOncePerTicketAndKeyAndTimeRulesOncePerIdlePeriod(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in RuleContractTests.ticket { try await stores.sql.execute(sql) }
            let rules = stores.ruleStore
            let refund = try await stores.sql.int64(Self.message(1, "in", "refund please", key: "k1"))
            let thanks = try await stores.sql.int64(Self.message(1, "in", "thanks", key: "k2"))
            var onRefund = Self.anyMessageRule("refund")
            onRefund.conditions.textContains = "refund"
            onRefund = try await rules.create(onRefund, now: Date(ms: 1))
            #expect(try await rules.claimRun(onRefund, ticketId: 1, key: "message:\(refund)", messageId: refund, now: Date(ms: 10)) == .claimed)
            #expect(try await rules.claimRun(onRefund, ticketId: 1, key: "message:\(refund)", messageId: refund, now: Date(ms: 11)) == .alreadyRan)
            #expect(try await rules.claimRun(onRefund, ticketId: 1, key: "message:\(thanks)", messageId: thanks, now: Date(ms: 12)) == .notMatched)
            #expect(try await stores.sql.rows("SELECT rule_id, ticket_id, key, ran_at FROM rule_runs") == [
                [.int(onRefund.id), .int(1), .text("message:\(refund)"), .int(10)]
            ])

            var idle = Rule(name: "Idle", trigger: .timePassed, afterSeconds: 60, actions: [Rule.Action(type: .setStatus)])
            idle.conditions.status = .open
            idle.actions[0].status = .resolved
            idle = try await rules.create(idle, now: Date(ms: 2))
            let inactive = try await rules.create(Rule(name: "Off", trigger: .timePassed, actions: idle.actions, active: false), now: Date(ms: 3))
            #expect(try await rules.activeRules(.timePassed) == [idle])
            #expect(try await rules.activeRules(.messageReceived) == [onRefund])
            #expect(try await rules.rules().map(\.id) == [onRefund.id, idle.id, inactive.id])
            try await stores.sql.execute("""
                INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at)
                VALUES (2, 1, 'open', 1, 1, 5000), (3, 1, 'pending', 1, 1, 10), (4, 1, 'open', 1, 1, 7000)
                """)
            try await stores.sql.execute("UPDATE tickets SET status = 'open', updated_at = 1000 WHERE id = 1")
            #expect(try await rules.idleTickets(for: idle, cutoff: Date(ms: 2000), limit: 10) == [IdleTicket(id: 1, updatedAt: 1000)])
            #expect(try await rules.idleTickets(for: idle, cutoff: Date(ms: 7000), limit: 10).map(\.id) == [1, 2, 4])
            #expect(try await rules.idleTickets(for: idle, cutoff: Date(ms: 7000), limit: 2).map(\.id) == [1, 2])
            #expect(try await rules.claimRun(idle, ticketId: 1, key: "idle:1000", messageId: nil, now: Date(ms: 8000)) == .claimed)
            #expect(try await rules.idleTickets(for: idle, cutoff: Date(ms: 7000), limit: 10).map(\.id) == [2, 4])
            // Activity starts a new idle period.
            try await stores.sql.execute("UPDATE tickets SET updated_at = 6000 WHERE id = 1")
            #expect(try await rules.idleTickets(for: idle, cutoff: Date(ms: 7000), limit: 10) == [
                IdleTicket(id: 2, updatedAt: 5000), IdleTicket(id: 1, updatedAt: 6000), IdleTicket(id: 4, updatedAt: 7000),
            ])

            try await rules.recordRuleEvent(ticketId: 1, kind: "notified", by: "rule:\(onRefund.id)", detail: ["text": "look"], at: Date(ms: 9000))
            #expect(try await stores.sql.rows("SELECT kind, actor, detail, created_at FROM ticket_events") == [
                [.text("notified"), .text("rule:\(onRefund.id)"), .text(#"{"text":"look"}"#), .int(9000)]
            ])
        }
    }

    /// Two processes following the rules feed at once (a lease taken over from a holder thought
    /// dead) both read the same entries: each event's rule acts once, each idle ticket's time rule once.
    @Test func twoProcessesFollowingTheFeedActOnEachEventOnce() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes throws in
            let stores = processes[0]
            for sql in RuleContractTests.ticket { try await stores.sql.execute(sql) }
            _ = try await stores.ruleStore.create(Self.anyMessageRule("first", stop: true), now: Date(ms: 1))
            _ = try await stores.ruleStore.create(Self.anyMessageRule("second"), now: Date(ms: 2))
            var idle = Rule(name: "Idle", trigger: .timePassed, afterSeconds: 60, actions: [Rule.Action(type: .setStatus)])
            idle.conditions.status = .pending
            idle.actions[0].status = .resolved
            let timeRule = try await stores.ruleStore.create(idle, now: Date(ms: 3))
            let count = 30
            var messages: [Int64] = []
            for index in 0..<count { messages.append(try await stores.sql.int64(Self.message(1, "in", "m\(index)", key: "k\(index)"))) }
            try await stores.sql.execute("""
                INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at)
                SELECT g, 1, 'pending', 1, 1, 100 FROM generate_series(2, \(count + 1)) g
                """)

            // Both read the same entries and idle tickets before either acts, then each runs its pass
            // as `Inbox.runRules` does: claim per event and rule (a stop rule ends the event's run,
            // also when the other process acted on it), then move the cursor.
            var pages: [RuleFeedPage] = []
            var idleTickets: [[IdleTicket]] = []
            for process in processes {
                pages.append(try #require(try await process.ruleStore.ruleFeed(limit: 100)))
                idleTickets.append(try await process.ruleStore.idleTickets(for: timeRule, cutoff: Date(ms: 1000), limit: 100))
            }
            #expect(pages[0].events.count == 2 * count && pages[1] == pages[0])  // the messages, then the idle tickets opening
            #expect(idleTickets[0].count == count && idleTickets[1] == idleTickets[0])
            let runs = try await withThrowingTaskGroup(of: [String].self) { group in
                for (index, process) in processes.enumerated() {
                    let page = pages[index]
                    let idleTickets = idleTickets[index]
                    group.addTask {
                        var acted: [String] = []
                        for event in page.events {
                            for rule in try await process.ruleStore.activeRules(event.trigger) {
                                let claim = try await process.ruleStore.claimRun(
                                    rule, ticketId: event.ticketId, key: event.key, messageId: event.messageId, now: Date(ms: 200))
                                if claim == .claimed { acted.append("\(rule.name) \(event.key)") }
                                if claim != .notMatched, rule.stop { break }
                            }
                        }
                        try await process.ruleStore.moveRuleFeed(to: page.next)
                        for ticket in idleTickets {
                            if try await process.ruleStore.claimRun(timeRule, ticketId: ticket.id, key: ticket.key, messageId: nil, now: Date(ms: 1000)) == .claimed {
                                acted.append("idle \(ticket.id)")
                            }
                        }
                        return acted
                    }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            let acted = runs.flatMap { $0 }
            #expect(acted.count == Set(acted).count)
            #expect(Set(acted) == Set(messages.map { "first message:\($0)" }).union((2...count + 1).map { "idle \($0)" }))
            #expect(try await stores.sql.rows("SELECT count(*) FROM rule_runs") == [[.int(Int64(2 * count))]])
            #expect(try await processes[1].ruleStore.ruleFeed(limit: 100)?.events == [])
        }
    }
}
