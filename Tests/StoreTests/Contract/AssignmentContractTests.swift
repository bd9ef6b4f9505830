import Foundation
import PostgresNIO
import Testing
import UniversalInbox

/// `AssignmentStore` as every implementation must keep it: a claim takes an unassigned ticket once;
/// a transfer moves a ticket and records it; distribution hands out the oldest queued tickets within
/// departments and maximums; the queue numbers waiting tickets per department. On PostgreSQL, with
/// two processes: one claim wins, and concurrent distribution never passes a maximum.
@Suite struct AssignmentContractTests {
    /// Agents: Ann (7, Sales, max 2), Bo (8, Support, max 3), Cy (9, offline), Di (10, paused),
    /// Ed (11, deactivated). Customers 1 to 6, one identity each.
    static let fixture = [
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1), (2, 'Support', 1)",
        """
        INSERT INTO agents (id, email, name, role, availability, max_tickets, distribution_paused, deactivated_at, created_at, updated_at) VALUES
            (7, 'ann@example.com', 'Ann', 'agent', 'online', 2, 0, NULL, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 'online', 3, 0, NULL, 1, 1),
            (9, 'cy@example.com', 'Cy', 'agent', 'offline', 9, 0, NULL, 1, 1), (10, 'di@example.com', 'Di', 'agent', 'online', 9, 1, NULL, 1, 1),
            (11, 'ed@example.com', 'Ed', 'agent', 'offline', 9, 0, 1, 1, 1)
        """,
        "INSERT INTO department_members (department_id, agent_id) VALUES (1, 7), (2, 8), (1, 9), (2, 10)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'C1', 1, 1), (2, 'C2', 1, 1), (3, 'C3', 1, 1), (4, 'C4', 1, 1), (5, 'C5', 1, 1), (6, 'C6', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES
            (1, 1, 'line/main', 'line', 'U1', 1), (2, 2, 'line/main', 'line', 'U2', 1), (3, 3, 'line/main', 'line', 'U3', 1),
            (4, 4, 'line/main', 'line', 'U4', 1), (5, 5, 'line/main', 'line', 'U5', 1), (6, 6, 'line/main', 'line', 'U6', 1)
        """,
    ]

    static let ann = Caller(agentId: 7, name: "Ann", role: .agent)
    static let bo = Caller(agentId: 8, name: "Bo", role: .agent)
    static let allow: TicketCheck = { _, _ in }
    /// Refuses, saying what it was asked about: `<ticket> [<agent>/<department>]`.
    static let refuse: TicketCheck = { id, places in
        let where_ = places.map { "\($0.agentId.map(String.init) ?? "nil")/\($0.departmentId.map(String.init) ?? "nil")" }.joined(separator: ",")
        throw InboxError.forbidden(code: "no", message: "\(id) [\(where_)]")
    }

    /// A ticket of `contact`; queued (waiting for distribution) when `queuedAt` is given.
    @discardableResult
    static func ticket(
        _ sql: PlainSQL, id: Int64, contact: Int64, status: String = "new", agent: Int64? = nil, department: Int64? = nil, queuedAt: Int64? = nil,
        screened: Int = 1, createdAt: Int64 = 1
    ) async throws -> Int64 {
        let value = { (v: Int64?) in v.map(String.init) ?? "NULL" }
        try await sql.execute("""
            INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, assignee, department_id, queued_at, screened, created_at, updated_at)
            VALUES (\(id), \(contact), '\(status)', \(contact), \(value(agent)), \(agent == nil ? "NULL" : "'someone'"), \(value(department)),
                \(value(queuedAt)), \(screened), \(createdAt), 1)
            """)
        return id
    }

    /// A ticket's agent, department, status and queued time.
    static func state(_ sql: PlainSQL, _ id: Int64) async throws -> [PlainSQL.Value] {
        try await sql.rows("SELECT agent_id, department_id, status, queued_at FROM tickets WHERE id = \(id)").first ?? []
    }

    /// A ticket's history: kind, actor and detail.
    static func history(_ sql: PlainSQL, _ id: Int64) async throws -> [History] {
        try await sql.rows("SELECT kind, actor, detail, created_at FROM ticket_events WHERE ticket_id = \(id) ORDER BY id").map { row in
            History(
                kind: row[0].text ?? "", actor: row[1].text ?? "",
                detail: try JSONDecoder().decode([String: String].self, from: Data((row[2].text ?? "{}").utf8)), at: row[3].int ?? 0)
        }
    }

    struct History: Equatable {
        var kind: String
        var actor: String
        var detail: [String: String]
        var at: Int64
    }

    @Test(arguments: StoreKind.available)
    func aClaimTakesAnUnassignedTicketOnce(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await Self.ticket(sql, id: 1, contact: 1, department: 1, queuedAt: 50)
            try await Self.ticket(sql, id: 2, contact: 2, status: "closed")
            let store = stores.assignmentStore
            #expect(try await store.claim(ticketId: 1, by: Self.ann, at: Date(ms: 1_000), check: Self.allow))
            // Ann's now, open, out of the queue; the claim is in the history.
            #expect(try await Self.state(sql, 1) == [.int(7), .int(1), .text("open"), .null])
            #expect(try await sql.rows("SELECT assignee FROM tickets WHERE id = 1") == [[.text("Ann")]])
            let claimed = Self.History(kind: "assigned", actor: "agent:7", detail: ["agentId": "7", "how": "claim"], at: 1_000)
            #expect(try await Self.history(sql, 1) == [claimed])
            // Again: a no-op. Someone else: a conflict naming Ann.
            #expect(try await store.claim(ticketId: 1, by: Self.ann, at: Date(ms: 2_000), check: Self.allow) == false)
            await #expect(throws: InboxError.alreadyAssigned(ticketId: 1, to: "Ann")) {
                try await store.claim(ticketId: 1, by: Self.bo, at: Date(ms: 2_000), check: Self.allow)
            }
            #expect(try await Self.history(sql, 1) == [claimed])
            // Refusals change nothing: no ticket, the check, a closed ticket.
            await #expect(throws: InboxError.notFound("ticket 99")) {
                try await store.claim(ticketId: 99, by: Self.bo, at: Date(ms: 2_000), check: Self.allow)
            }
            try await Self.ticket(sql, id: 3, contact: 3, queuedAt: 60)
            // The check is asked with the ticket and its place (unassigned, no department).
            await #expect(throws: InboxError.forbidden(code: "no", message: "3 [nil/nil]")) {
                try await store.claim(ticketId: 3, by: Self.bo, at: Date(ms: 2_000), check: Self.refuse)
            }
            #expect(try await Self.state(sql, 3) == [.null, .null, .text("new"), .int(60)])
            await #expect(throws: InboxError.closedTicketAssignment(2)) {
                try await store.claim(ticketId: 2, by: Self.bo, at: Date(ms: 2_000), check: Self.allow)
            }
            #expect(try await Self.state(sql, 2) == [.null, .null, .text("closed"), .null])
            #expect(try await Self.history(sql, 2).isEmpty)
            #expect(try await Self.history(sql, 3).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func aTransferMovesTheTicketAndRecordsIt(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await Self.ticket(sql, id: 1, contact: 1, status: "open", agent: 7, department: 1)
            try await Self.ticket(sql, id: 2, contact: 2, status: "closed", agent: 7)
            let store = stores.assignmentStore
            try await store.transfer(
                ticketId: 1, to: TransferTarget(agentId: 8, departmentId: 2), note: "VIP customer", by: Self.ann, at: Date(ms: 1_000), check: Self.allow)
            #expect(try await Self.state(sql, 1) == [.int(8), .int(2), .text("open"), .null])
            #expect(try await sql.rows("SELECT assignee FROM tickets WHERE id = 1") == [[.text("Bo")]])
            #expect(try await sql.rows("SELECT agent_id, author, text, created_at FROM ticket_notes WHERE ticket_id = 1") == [[.int(7), .text("Ann"), .text("VIP customer"), .int(1_000)]])
            // Back to Sales' queue, unassigned, without a note.
            try await store.transfer(ticketId: 1, to: TransferTarget(departmentId: 1), note: nil, by: Self.bo, at: Date(ms: 2_000), check: Self.allow)
            #expect(try await Self.state(sql, 1) == [.null, .int(1), .text("open"), .int(2_000)])
            #expect(try await sql.rows("SELECT assignee FROM tickets WHERE id = 1") == [[.null]])
            #expect(try await sql.int64("SELECT count(*) FROM ticket_notes WHERE ticket_id = 1") == 1)
            #expect(try await Self.history(sql, 1) == [
                Self.History(kind: "transferred", actor: "agent:7", detail: ["fromAgentId": "7", "agentId": "8", "departmentId": "2", "note": "VIP customer"], at: 1_000),
                Self.History(kind: "transferred", actor: "agent:8", detail: ["fromAgentId": "8", "departmentId": "1"], at: 2_000),
            ])
            // Refusals change nothing.
            let refusals: [(TransferTarget, Int64, InboxError)] = [
                (TransferTarget(agentId: 8, departmentId: 99), 1, .noSuchDepartment(99)),
                (TransferTarget(agentId: 99, departmentId: 2), 1, .noSuchAgent(99)),
                (TransferTarget(agentId: 11), 1, .transferToDeactivated(11)),
                (TransferTarget(agentId: 8), 2, .closedTicketAssignment(2)),
                (TransferTarget(agentId: 8), 98, .notFound("ticket 98")),
                (TransferTarget(agentId: 8, departmentId: 2), 1, .forbidden(code: "no", message: "1 [nil/1]")),
            ]
            for (target, ticket, error) in refusals {
                await #expect(throws: error) {
                    try await store.transfer(
                        ticketId: ticket, to: target, note: "x", by: Self.ann, at: Date(ms: 3_000), check: error == .forbidden(code: "no", message: "1 [nil/1]") ? Self.refuse : Self.allow)
                }
            }
            #expect(try await Self.state(sql, 1) == [.null, .int(1), .text("open"), .int(2_000)])
            #expect(try await Self.state(sql, 2) == [.int(7), .null, .text("closed"), .null])
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events") == 2)
            #expect(try await sql.int64("SELECT count(*) FROM ticket_notes") == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func distributionHandsOutTheOldestWithinDepartmentsAndMaximums(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await sql.execute("UPDATE agents SET max_tickets = 4 WHERE id IN (7, 8)")
            // Bo served customer 1 before (resolved: not active); Ann has one active ticket, Bo two.
            try await Self.ticket(sql, id: 1, contact: 1, status: "resolved", agent: 8)
            try await Self.ticket(sql, id: 2, contact: 6, status: "open", agent: 7)
            try await Self.ticket(sql, id: 3, contact: 6, status: "open", agent: 8)
            try await Self.ticket(sql, id: 4, contact: 6, status: "new", agent: 8)
            try await Self.ticket(sql, id: 10, contact: 1, queuedAt: 100)
            try await Self.ticket(sql, id: 11, contact: 2, department: 1, queuedAt: 110)
            try await Self.ticket(sql, id: 12, contact: 3, queuedAt: 120)
            try await Self.ticket(sql, id: 13, contact: 4, department: 1, queuedAt: 130)
            try await Self.ticket(sql, id: 14, contact: 5, department: 2, queuedAt: 140)
            try await Self.ticket(sql, id: 15, contact: 5, department: 2, queuedAt: 90, screened: 0)
            try await Self.ticket(sql, id: 16, contact: 2, department: 2, queuedAt: 150)
            try await Self.ticket(sql, id: 17, contact: 3, department: 1, queuedAt: 160)
            let store = stores.assignmentStore
            // The oldest screened ticket first: customer 1's goes to Bo, who served them before
            // (though Ann has fewer active tickets).
            #expect(try await store.distribute(limit: 1, at: Date(ms: 1_000)) == [Distribution(ticketId: 10, agentId: 8)])
            #expect(try await Self.state(sql, 10) == [.int(8), .null, .text("open"), .null])
            #expect(try await Self.history(sql, 10) == [
                Self.History(kind: "assigned", actor: "system", detail: ["agentId": "8", "how": "automatic, served this contact before"], at: 1_000)
            ])
            // Sales to Ann; no department to the one with fewer active tickets (Ann 2, Bo 3); Sales
            // to Ann, Support to Bo; then both are at their maximum (4) and 16 and 17 wait. Cy is
            // offline, Di paused; 15 is not screened.
            #expect(try await store.distribute(limit: 500, at: Date(ms: 2_000)) == [
                Distribution(ticketId: 11, agentId: 7), Distribution(ticketId: 12, agentId: 7), Distribution(ticketId: 13, agentId: 7),
                Distribution(ticketId: 14, agentId: 8),
            ])
            #expect(try await Self.history(sql, 12) == [Self.History(kind: "assigned", actor: "system", detail: ["agentId": "7", "how": "automatic"], at: 2_000)])
            #expect(try await store.distribute(limit: 500, at: Date(ms: 3_000)) == [])
            #expect(try await store.queue().map(\.ticketId) == [16, 17])
            #expect(try await sql.rows("SELECT agent_id, count(*) FROM tickets WHERE status IN ('new', 'open') AND agent_id IS NOT NULL GROUP BY agent_id ORDER BY agent_id") == [
                [.int(7), .int(4)], [.int(8), .int(4)],
            ])
            // Room again (Ann resolves one): Sales' 17 goes to her.
            try await sql.execute("UPDATE tickets SET status = 'resolved' WHERE id = 2")
            #expect(try await store.distribute(limit: 500, at: Date(ms: 4_000)) == [Distribution(ticketId: 17, agentId: 7)])
        }
    }

    @Test(arguments: StoreKind.available)
    func theQueueNumbersWaitingTicketsPerDepartment(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await Self.ticket(sql, id: 20, contact: 1, department: 1, queuedAt: 100)
            try await Self.ticket(sql, id: 21, contact: 2, queuedAt: 100)
            try await Self.ticket(sql, id: 22, contact: 3, department: 1, queuedAt: 90)
            try await Self.ticket(sql, id: 23, contact: 4, department: 2, queuedAt: 200)
            try await Self.ticket(sql, id: 24, contact: 5, department: 1, queuedAt: 50, screened: 0)
            try await Self.ticket(sql, id: 25, contact: 6, status: "open", agent: 7, department: 1)
            try await Self.ticket(sql, id: 26, contact: 6, status: "resolved", agent: 7, department: 1, createdAt: 0)
            try await Self.ticket(sql, id: 27, contact: 6, status: "resolved", agent: 7, department: 1, createdAt: 0)
            try await Self.ticket(sql, id: 28, contact: 6, status: "closed", department: 1, queuedAt: 10)
            let store = stores.assignmentStore
            #expect(try await store.queue() == [
                QueuedTicket(ticketId: 22, departmentId: 1, position: 1, queuedAt: Date(ms: 90)),
                QueuedTicket(ticketId: 20, departmentId: 1, position: 2, queuedAt: Date(ms: 100)),
                QueuedTicket(ticketId: 21, departmentId: nil, position: 1, queuedAt: Date(ms: 100)),
                QueuedTicket(ticketId: 23, departmentId: 2, position: 1, queuedAt: Date(ms: 200)),
            ])
            // No history: 5 minutes a place.
            #expect(try await store.queuePlace(ticketId: 20) == QueuePlace(position: 2, waitMinutes: 10))
            #expect(try await store.queuePlace(ticketId: 21) == QueuePlace(position: 1, waitMinutes: 5))
            #expect(try await store.queuePlace(ticketId: 25) == nil)
            #expect(try await store.queuePlace(ticketId: 28) == nil)
            #expect(try await store.queuePlace(ticketId: 99) == nil)
            // Sales' automatic assignments waited 3 minutes (an agent's own claim does not count).
            try await sql.execute("""
                INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES
                    (26, 'assigned', 'system', '{}', 180000), (27, 'assigned', 'agent:7', '{}', 3600000)
                """)
            #expect(try await store.queuePlace(ticketId: 22) == QueuePlace(position: 1, waitMinutes: 3))
            #expect(try await store.queuePlace(ticketId: 20) == QueuePlace(position: 2, waitMinutes: 6))
            #expect(try await store.queuePlace(ticketId: 23) == QueuePlace(position: 1, waitMinutes: 5))
            // Who still has to be told their place: not 22 (told), oldest first.
            try await sql.execute("INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (22, 'queue_notice', 'system', '{}', 1)")
            try await sql.execute("INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (23, 'queue_notice_not_sent', 'system', '{}', 1)")
            #expect(try await store.ticketsAwaitingQueueNotice(limit: 10) == [20, 21])
            #expect(try await store.ticketsAwaitingQueueNotice(limit: 1) == [20])
        }
    }

    // MARK: - Several processes (PostgreSQL)

    /// Process 1 runs `held` in a transaction it keeps open (an assignment under way, not committed)
    /// while process 0 starts `operation`; commits once the operation waits on a lock (or has
    /// finished without waiting: it took no lock) and returns the operation's task.
    static func whileHeld<T: Sendable>(
        _ processes: [Stores], _ held: [String], _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> Task<T, any Error> {
        guard case .postgres(let client) = processes[1].sql else { preconditionFailure("PostgreSQL only") }
        return try await client.withTransaction(logger: TestServer.logger) { connection in
            for statement in held { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestServer.logger) }
            let finished = Finished()
            let task = Task {
                defer { Task { await finished.set() } }
                return try await operation()
            }
            var waiting = false
            while !waiting, await !finished.value {
                waiting = try await processes[0].sql.int64("""
                    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                    """) > 0
                if !waiting { try await Task.sleep(for: .milliseconds(5)) }
            }
            return task
        }
    }

    /// Two agents keep one ticket at once, in two processes: the second waits for the first and
    /// is refused. Then both processes claim each of 30 tickets concurrently: one claim wins each.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesClaimingOneTicketOneWins() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let sql = processes[0].sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await Self.ticket(sql, id: 1, contact: 1, department: 1, queuedAt: 100)
            let claim = try await Self.whileHeld(processes, [
                "SELECT id FROM tickets WHERE id = 1 FOR UPDATE",
                "UPDATE tickets SET agent_id = 8, assignee = 'Bo', queued_at = NULL, status = 'open' WHERE id = 1",
            ]) {
                try await processes[0].assignmentStore.claim(ticketId: 1, by: Self.ann, at: Date(ms: 1_000), check: Self.allow)
            }
            await #expect(throws: InboxError.alreadyAssigned(ticketId: 1, to: "Bo")) { try await claim.value }
            #expect(try await Self.state(sql, 1) == [.int(8), .int(1), .text("open"), .null])
            #expect(try await Self.history(sql, 1).isEmpty)

            let tickets = Array(Int64(100)..<130)
            for id in tickets { try await Self.ticket(sql, id: id, contact: 1 + id % 6, queuedAt: id) }
            let won = try await withThrowingTaskGroup(of: (Int64, Int64)?.self) { group in
                for id in tickets {
                    for (process, agent) in [(processes[0], Self.ann), (processes[1], Self.bo)] {
                        group.addTask {
                            do {
                                return try await process.assignmentStore.claim(ticketId: id, by: agent, at: Date(ms: 2_000), check: Self.allow) ? (id, agent.agentId!) : nil
                            } catch InboxError.conflict(code: "already_assigned", _) {
                                return nil
                            }
                        }
                    }
                }
                var won: [Int64: [Int64]] = [:]
                for try await case let (id, agent)? in group { won[id, default: []].append(agent) }
                return won
            }
            #expect(won.keys.sorted() == tickets)
            #expect(won.values.allSatisfy { $0.count == 1 })
            let holders = try await sql.rows("SELECT id, agent_id FROM tickets WHERE id >= 100 ORDER BY id")
            #expect(holders == tickets.map { [.int($0), .int(won[$0]?.first ?? 0)] })
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events WHERE kind = 'assigned' AND ticket_id >= 100") == Int64(tickets.count))
        }
    }

    /// A distribution run in process 0 starts while one in process 1 is giving Ann (maximum 1) a
    /// ticket: it waits for it and gives her nothing more. Then both processes distribute 40
    /// queued tickets at once, repeatedly: nobody passes their maximum, no ticket goes out twice.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesDistributingNeverPassAMaximum() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let sql = processes[0].sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await sql.execute("UPDATE agents SET max_tickets = 1 WHERE id = 7")
            try await Self.ticket(sql, id: 1, contact: 1, department: 1, queuedAt: 100)
            try await Self.ticket(sql, id: 2, contact: 2, department: 1, queuedAt: 200)
            let run = try await Self.whileHeld(processes, [
                "SELECT id FROM agents WHERE id = 7 FOR UPDATE",
                "UPDATE tickets SET agent_id = 7, assignee = 'Ann', queued_at = NULL, status = 'open' WHERE id = 1",
            ]) {
                try await processes[0].assignmentStore.distribute(limit: 500, at: Date(ms: 1_000))
            }
            #expect(try await run.value == [])
            #expect(try await Self.state(sql, 2) == [.null, .int(1), .text("new"), .int(200)])

            try await sql.execute("UPDATE agents SET max_tickets = 5 WHERE id = 7")
            try await sql.execute("UPDATE agents SET max_tickets = 7 WHERE id = 8")
            let tickets = Array(Int64(100)..<140)
            for id in tickets { try await Self.ticket(sql, id: id, contact: 1 + id % 6, queuedAt: id) }
            let handed = try await withThrowingTaskGroup(of: [Distribution].self) { group in
                for process in processes {
                    for round in 0..<3 {
                        group.addTask { try await process.assignmentStore.distribute(limit: 4 + round, at: Date(ms: 2_000)) }
                    }
                }
                return try await group.reduce([], +)
            }
            // Ann: 1 before and 4 more; Bo: 7.
            #expect(handed.count == 11)
            #expect(Set(handed.map(\.ticketId)).count == handed.count)
            #expect(try await sql.rows("SELECT agent_id, count(*) FROM tickets WHERE status IN ('new', 'open') AND agent_id IS NOT NULL GROUP BY agent_id ORDER BY agent_id") == [
                [.int(7), .int(5)], [.int(8), .int(7)],
            ])
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events WHERE kind = 'assigned'") == 11)
        }
    }
}

/// Whether an operation started by `whileHeld` has finished.
private actor Finished {
    var value = false
    func set() { value = true }
}
