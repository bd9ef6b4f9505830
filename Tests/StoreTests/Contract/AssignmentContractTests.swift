import Foundation
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
            let store = stores.assignments
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
}
