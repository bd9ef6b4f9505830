import Foundation
import Testing
import UniversalInbox

/// `AlertStore` as every implementation must keep it: settings saved whole (defaults without
/// any); who gets alerted about what (a new ticket: the active agents who may see it; a customer's
/// message: the assignee, after the coalescing window, a burst growing one alert; an assignment:
/// the new assignee unless they took it themselves; a long wait: the ticket's agents, once), on the
/// media each agent chose; each log entry acted on once; claims and outcomes through the lease queue.
@Suite struct AlertContractTests {
    /// Sales (1) and Support (2). Ann (7) in Sales; Bo (8) in Support and restricted to his
    /// departments; Cy (9) in none, unrestricted; Di (10) deactivated. Kim writes on LINE.
    static let people = [
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1), (2, 'Support', 1)",
        """
        INSERT INTO agents (id, email, name, role, max_tickets, departments_only, deactivated_at, created_at, updated_at)
        VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 0, NULL, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, NULL, 1, 1),
            (9, 'cy@example.com', 'Cy', 'agent', 5, 0, NULL, 1, 1), (10, 'di@example.com', 'Di', 'agent', 5, 0, 5, 1, 1)
        """,
        "INSERT INTO department_members (department_id, agent_id) VALUES (1, 7), (2, 8), (1, 10)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
    ]

    static func ticket(_ id: Int64, department: Int64?, agent: Int64? = nil, queuedAt: Int64? = nil) -> String {
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, department_id, agent_id, queued_at, created_at, updated_at)
        VALUES (\(id), 1, 'open', 1, \(department.map(String.init) ?? "NULL"), \(agent.map(String.init) ?? "NULL"), \(queuedAt.map(String.init) ?? "NULL"), 1, 1)
        """
    }

    static func message(_ id: Int64, ticket: Int64, direction: String, text: String) -> String {
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (\(id), \(ticket), 1, '\(direction)', 'line', 'line/main', '{}', '\(text)', 'received', 'k\(id)', 2, 2)
        """
    }

    static func history(_ id: Int64, ticket: Int64, kind: String, actor: String, agent: Int64) -> String {
        """
        INSERT INTO ticket_events (id, ticket_id, kind, actor, detail, created_at) VALUES (\(id), \(ticket), '\(kind)', '\(actor)', '{"agentId":"\(agent)"}', 3)
        """
    }

    /// Queued alerts as (agent, medium, event, ticket, count), in that order.
    static func queued(_ sql: PlainSQL) async throws -> [String] {
        try await sql.rows("SELECT agent_id, medium, event, ticket_id, count, due_at FROM notifications ORDER BY ticket_id, event, agent_id, medium").map {
            "\($0[0].int!) \($0[1].text!) \($0[2].text!) #\($0[3].int!) x\($0[4].int!) @\($0[5].int!)"
        }
    }

    static let now = Date(ms: 1_000_000)

    @Test(arguments: StoreKind.available)
    func settingsAreSavedWholeAndDefaultToTheDesktop(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            let alerts = stores.alerts
            #expect(try await alerts.settings(agentId: 7) == AlertSettings())
            let quiet = AlertSettings(
                media: [.newTicket: [.desktop, .push], .customerMessage: [.sms]], phone: "+15550001", quietStart: "22:00", quietEnd: "07:00", timeZone: "Asia/Tokyo")
            try await alerts.saveSettings(quiet, agentId: 7, now: Self.now)
            #expect(try await alerts.settings(agentId: 7) == quiet)
            #expect(try await alerts.settings(agentId: 8) == AlertSettings())
            let plain = AlertSettings(media: [.assigned: [.email]])
            try await alerts.saveSettings(plain, agentId: 7, now: Self.now)
            #expect(try await alerts.settings(agentId: 7) == plain)
        }
    }

    @Test(arguments: StoreKind.available)
    func aNewTicketAlertsTheActiveAgentsWhoMaySeeItOnTheirMedia(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            let alerts = stores.alerts
            try await alerts.saveSettings(AlertSettings(media: [.newTicket: [.desktop, .email]]), agentId: 9, now: Self.now)
            try await alerts.saveSettings(AlertSettings(media: [.newTicket: []]), agentId: 8, now: Self.now)
            // Sales' ticket: Ann (Di is deactivated). A ticket in no department: everyone unrestricted (Ann, Cy on two media), not Bo.
            try await stores.sql.execute(Self.ticket(1, department: 1))
            try await stores.sql.execute(Self.ticket(2, department: nil))
            // Support's ticket: Bo, who chose no medium for new tickets.
            try await stores.sql.execute(Self.ticket(3, department: 2))
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now) == 4)
            #expect(try await Self.queued(stores.sql) == [
                "7 desktop new_ticket #1 x1 @1000000", "7 desktop new_ticket #2 x1 @1000000", "9 desktop new_ticket #2 x1 @1000000",
                "9 email new_ticket #2 x1 @1000000",
            ])
            // Each entry once.
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now) == 0)
            #expect(try await Self.queued(stores.sql).count == 4)
        }
    }

    @Test(arguments: StoreKind.available)
    func messagesAlertTheAssigneeAfterTheWindowAndABurstIsOneAlert(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            try await stores.sql.execute(Self.ticket(1, department: 2, agent: 8))
            let alerts = stores.alerts
            // Read past the new ticket (Bo's desktop), then the customer writes twice and Ann replies.
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now) == 1)
            try await stores.sql.execute(Self.message(1, ticket: 1, direction: "in", text: "Hello?"))
            try await stores.sql.execute(Self.message(2, ticket: 1, direction: "in", text: "Anyone there?"))
            try await stores.sql.execute(Self.message(3, ticket: 1, direction: "out", text: "Yes"))
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now) == 2)
            #expect(try await Self.queued(stores.sql) == ["8 desktop customer_message #1 x2 @1030000", "8 desktop new_ticket #1 x1 @1000000"])
            let summary = try await stores.sql.rows("SELECT summary FROM notifications WHERE event = 'customer_message'")
            #expect(summary == [[.text("Kim: Anyone there?")]])
        }
    }

    @Test(arguments: StoreKind.available)
    func anAssignmentAlertsTheNewAssigneeUnlessTheyTookItThemselves(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            try await stores.sql.execute(Self.ticket(1, department: 1))
            let alerts = stores.alerts
            _ = try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now)
            try await stores.sql.execute(Self.history(1, ticket: 1, kind: "assigned", actor: "agent:9", agent: 7))
            try await stores.sql.execute(Self.history(2, ticket: 1, kind: "transferred", actor: "agent:7", agent: 7))
            try await stores.sql.execute(Self.history(3, ticket: 1, kind: "transferred", actor: "system", agent: 9))
            try await stores.sql.execute(Self.history(4, ticket: 1, kind: "tagged", actor: "agent:9", agent: 8))
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now) == 2)
            #expect(try await Self.queued(stores.sql) == [
                "7 desktop assigned #1 x1 @1000000", "9 desktop assigned #1 x1 @1000000", "7 desktop new_ticket #1 x1 @1000000",
            ])
        }
    }

    @Test(arguments: StoreKind.available)
    func aTicketWaitingTooLongAlertsItsAgentsOnce(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            let alerts = stores.alerts
            // Queued 10 minutes before now (waits too long), 1 minute before (not yet), and an assigned one.
            try await stores.sql.execute(Self.ticket(1, department: 1, queuedAt: 400_000))
            try await stores.sql.execute(Self.ticket(2, department: 1, queuedAt: 940_000))
            try await stores.sql.execute(Self.ticket(3, department: 1, agent: 7, queuedAt: 400_000))
            try await alerts.saveSettings(AlertSettings(media: [.newTicket: [], .waiting: [.desktop, .push]]), agentId: 7, now: Self.now)
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 300, limit: 100, now: Self.now) == 2)
            #expect(try await Self.queued(stores.sql) == ["7 desktop waiting #1 x1 @1000000", "7 push waiting #1 x1 @1000000"])
            #expect(try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 300, limit: 100, now: Date(ms: 2_000_000)) == 2)
            #expect(try await Self.queued(stores.sql) == [
                "7 desktop waiting #1 x1 @1000000", "7 push waiting #1 x1 @1000000", "7 desktop waiting #2 x1 @2000000", "7 push waiting #2 x1 @2000000",
            ])
        }
    }

    @Test(arguments: StoreKind.available)
    func noAgentsNoAlertsAndTheLogWaits(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            // A ticket in the log (written before any agent exists): the cursor stays before it.
            for sql in Self.people.dropFirst(3) { try await stores.sql.execute(sql) }
            try await stores.sql.execute(Self.ticket(1, department: nil))
            #expect(try await stores.alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now) == 0)
            #expect(try await stores.sql.rows("SELECT last_id FROM feed_cursors WHERE name = 'notify.log'") == [[.int(0)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func claimedAlertsCarryWhatSendingNeedsAndTheirOutcomesStay(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.people { try await stores.sql.execute(sql) }
            let alerts = stores.alerts
            let settings = AlertSettings(media: [.newTicket: [.desktop, .email], .customerMessage: [.desktop]], quietStart: "22:00", quietEnd: "06:00", timeZone: "UTC")
            try await alerts.saveSettings(settings, agentId: 7, now: Self.now)
            try await stores.sql.execute(Self.ticket(1, department: 1, agent: 7))
            try await stores.sql.execute(Self.message(1, ticket: 1, direction: "in", text: "Hi"))
            _ = try await alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 100, now: Self.now)
            // The message's alert waits out the window; the new ticket's two are due.
            let claimed = try await alerts.claim(limit: 10, lease: 60, now: Self.now)
            #expect(claimed.map(\.medium) == [.desktop, .email])
            #expect(claimed.allSatisfy { $0.agentId == 7 && $0.event == .newTicket && $0.ticketId == 1 && $0.settings == settings && $0.email == "ann@example.com" })
            #expect(claimed.allSatisfy { $0.count == 1 && $0.attempts == 0 && $0.summary == "Kim: Hi" })
            #expect(try await alerts.claim(limit: 10, lease: 60, now: Self.now).isEmpty)
            let (desktop, email) = (claimed[0], claimed[1])
            try await alerts.finish(desktop, status: "sent", error: nil, retryAt: nil, now: Date(ms: 1_000_500))
            try await alerts.finish(email, status: "pending", error: "relay down", retryAt: Date(ms: 1_100_000), now: Date(ms: 1_000_500))
            #expect(try await stores.sql.rows("SELECT status, sent_at, attempts, last_error FROM notifications WHERE id = \(desktop.id)") == [
                [.text("sent"), .int(1_000_500), .int(1), .null]
            ])
            // The retry and the message's alert are due later; a stale report changes nothing.
            let later = try await alerts.claim(limit: 10, lease: 60, now: Date(ms: 1_100_000))
            #expect(later.map(\.event) == [.newTicket, .customerMessage])
            #expect(later[0].id == email.id && later[0].attempts == 1)
            await #expect(throws: LeaseLost(table: "notifications", id: email.id)) {
                try await alerts.finish(email, status: "failed", error: "late", retryAt: nil, now: Date(ms: 1_100_000))
            }
            try await alerts.finish(later[0], status: "unreached", error: nil, retryAt: nil, now: Date(ms: 1_100_001))
            #expect(try await stores.sql.rows("SELECT status, sent_at, attempts, last_error FROM notifications WHERE id = \(email.id)") == [
                [.text("unreached"), .null, .int(2), .null]
            ])
        }
    }

    /// Two processes feeding alerts at once, in small batches, over the same log: every new ticket
    /// gives each agent one alert (none counted twice), and each waiting ticket one waiting alert.
    /// Idempotent because the feed locks its cursor row before reading it (`PostgresAlertStore`).
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesFeedingAtOnceQueueEachAlertOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for sql in Self.people { try await processes[0].sql.execute(sql) }
            for id in Int64(1)...30 { try await processes[0].sql.execute(Self.ticket(id, department: nil, queuedAt: 1)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for process in processes {
                    group.addTask {
                        for _ in 0..<20 { _ = try await process.alerts.queueAlerts(coalesceWindow: 30, waitingAfter: 600, limit: 4, now: Self.now) }
                    }
                }
                try await group.waitForAll()
            }
            let rows = try await processes[1].sql.rows("SELECT agent_id, event, ticket_id, count FROM notifications ORDER BY ticket_id, event, agent_id")
            let expected = (Int64(1)...30).flatMap { ticket in
                ["new_ticket", "waiting"].flatMap { event in [Int64(7), 9].map { [PlainSQL.Value.int($0), .text(event), .int(ticket), .int(1)] } }
            }
            #expect(rows.count == expected.count)
            #expect(rows == expected)
        }
    }
}
