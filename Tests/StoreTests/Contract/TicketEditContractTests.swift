import Foundation
import Testing
import UniversalInbox

/// `TicketStore.update` as every implementation must keep it: each change applied and recorded in
/// the history (tags only when they change), the status's side effects (resolved time, resolution
/// reason, queue), a closed ticket's status kept, and a refusal changing nothing.
@Suite struct TicketEditContractTests {
    typealias History = AssignmentContractTests.History
    static let ann = AssignmentContractTests.ann

    /// Kim's tickets 1 (open, queued, tagged old and keep; field `order` set) and 2 (closed).
    static func fixture(_ stores: Stores) async throws -> (order: CustomField, due: CustomField) {
        let sql = stores.sql
        for statement in [
            "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
            "INSERT INTO departments (id, name, created_at) VALUES (3, 'Sales', 1)",
            "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
            "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
            """
            INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, department_id, queued_at, resolution_reason, created_at, updated_at)
            VALUES (1, 1, 'open', 1, 7, 3, 50, 'test', 1, 1), (2, 1, 'closed', 1, NULL, NULL, NULL, NULL, 1, 1)
            """,
            "INSERT INTO ticket_tags (ticket_id, tag) VALUES (1, 'old'), (1, 'keep')",
        ] {
            try await sql.execute(statement)
        }
        var order = CustomField(scope: .ticket, key: "order", label: "Order", type: .text)
        order.id = try await stores.customFieldStore.create(order, at: Date(ms: 1))
        var due = CustomField(scope: .ticket, key: "due", label: "Due", type: .date)
        due.id = try await stores.customFieldStore.create(due, at: Date(ms: 1))
        try await sql.execute("INSERT INTO ticket_fields (ticket_id, field_id, value) VALUES (1, \(order.id), 'A-1')")
        return (order, due)
    }

    static func ticket(_ sql: PlainSQL, _ id: Int64) async throws -> [PlainSQL.Value] {
        try await sql.rows("SELECT status, priority, resolution_reason, resolved_at, queued_at, updated_at FROM tickets WHERE id = \(id)").first ?? []
    }

    static func tags(_ sql: PlainSQL, _ id: Int64) async throws -> [String] {
        try await sql.rows("SELECT tag FROM ticket_tags WHERE ticket_id = \(id) ORDER BY tag").compactMap { $0[0].text }
    }

    static func fields(_ sql: PlainSQL, _ id: Int64) async throws -> [[PlainSQL.Value]] {
        try await sql.rows("SELECT f.key, v.value FROM ticket_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.ticket_id = \(id) ORDER BY f.key")
    }

    @Test(arguments: StoreKind.available)
    func eachChangeIsAppliedAndRecorded(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            let (order, due) = try await Self.fixture(stores)
            let tickets = stores.ticketStore
            let check: TicketCheck = { id, places in
                #expect(id == 1 && places == [TicketPlace(agentId: 7, departmentId: 3)])
            }
            try await tickets.update(
                ticketId: 1,
                TicketEdit(
                    status: .resolved, priority: .high, resolutionReason: .duplicate, addTags: ["new", "keep"], removeTags: ["old", "absent"],
                    fields: [FieldValueChange(field: due, value: "2026-12-01"), FieldValueChange(field: order, value: nil)]),
                by: Self.ann, at: Date(ms: 1_000), check: check)
            // Resolved: resolved now, out of the queue, with the reason given in the same change.
            #expect(try await Self.ticket(sql, 1) == [.text("resolved"), .text("high"), .text("duplicate"), .int(1_000), .null, .int(1_000)])
            #expect(try await Self.tags(sql, 1) == ["keep", "new"])
            #expect(try await Self.fields(sql, 1) == [[.text("due"), .text("2026-12-01")]])
            // Only the tags that changed are in the history; every field named is.
            #expect(try await AssignmentContractTests.history(sql, 1) == [
                History(kind: "status", actor: "agent:7", detail: ["from": "open", "to": "resolved"], at: 1_000),
                History(kind: "priority", actor: "agent:7", detail: ["from": "normal", "to": "high"], at: 1_000),
                History(kind: "resolution_reason", actor: "agent:7", detail: ["to": "duplicate"], at: 1_000),
                History(kind: "tagged", actor: "agent:7", detail: ["tag": "new"], at: 1_000),
                History(kind: "untagged", actor: "agent:7", detail: ["tag": "old"], at: 1_000),
                History(kind: "field", actor: "agent:7", detail: ["key": "due", "value": "2026-12-01"], at: 1_000),
                History(kind: "field", actor: "agent:7", detail: ["key": "order"], at: 1_000),
            ])
            // Reopened: the resolution and its reason go; unchanged values record nothing.
            try await tickets.update(
                ticketId: 1, TicketEdit(status: .pending, priority: .high, addTags: ["new"]), by: .system, at: Date(ms: 2_000), check: check)
            #expect(try await Self.ticket(sql, 1) == [.text("pending"), .text("high"), .null, .null, .null, .int(2_000)])
            #expect(try await AssignmentContractTests.history(sql, 1).count == 8)
            #expect(try await AssignmentContractTests.history(sql, 1).last == History(
                kind: "status", actor: "system", detail: ["from": "resolved", "to": "pending"], at: 2_000))
        }
    }

    @Test(arguments: StoreKind.available)
    func reopeningKeepsTheQueueAndOtherStatusesLeaveIt(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            _ = try await Self.fixture(stores)
            let allow = AssignmentContractTests.allow
            try await stores.ticketStore.update(ticketId: 1, TicketEdit(status: .new), by: Self.ann, at: Date(ms: 1_000), check: allow)
            #expect(try await Self.ticket(sql, 1) == [.text("new"), .text("normal"), .null, .null, .int(50), .int(1_000)])
            try await stores.ticketStore.update(ticketId: 1, TicketEdit(status: .spam), by: Self.ann, at: Date(ms: 2_000), check: allow)
            #expect(try await Self.ticket(sql, 1) == [.text("spam"), .text("normal"), .null, .null, .null, .int(2_000)])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRefusedChangeChangesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            let (order, _) = try await Self.fixture(stores)
            let tickets = stores.ticketStore
            let allow = AssignmentContractTests.allow
            let everything = TicketEdit(
                status: .open, priority: .urgent, addTags: ["x"], removeTags: ["keep"], fields: [FieldValueChange(field: order, value: "B-2")])
            // A closed ticket is not reopened, and nothing else of the change is applied either.
            await #expect(throws: InboxError.closedTicketReopened(2)) {
                try await tickets.update(ticketId: 2, everything, by: Self.ann, at: Date(ms: 1_000), check: allow)
            }
            #expect(try await Self.ticket(sql, 2) == [.text("closed"), .text("normal"), .null, .null, .null, .int(1)])
            #expect(try await Self.tags(sql, 2) == [])
            // What `check` refuses, with the ticket's place.
            await #expect(throws: InboxError.forbidden(code: "no", message: "1 [7/3]")) {
                try await tickets.update(ticketId: 1, everything, by: Self.ann, at: Date(ms: 1_000), check: AssignmentContractTests.refuse)
            }
            await #expect(throws: InboxError.notFound("ticket 99")) {
                try await tickets.update(ticketId: 99, everything, by: Self.ann, at: Date(ms: 1_000), check: allow)
            }
            #expect(try await Self.ticket(sql, 1) == [.text("open"), .text("normal"), .text("test"), .null, .int(50), .int(1)])
            #expect(try await Self.tags(sql, 1) == ["keep", "old"])
            #expect(try await Self.fields(sql, 1) == [[.text("order"), .text("A-1")]])
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events") == 0)
            // A closed ticket's other attributes still change when its status is left alone.
            try await tickets.update(ticketId: 2, TicketEdit(status: .closed, addTags: ["late"]), by: Self.ann, at: Date(ms: 3_000), check: allow)
            #expect(try await Self.tags(sql, 2) == ["late"])
            #expect(try await AssignmentContractTests.history(sql, 2) == [History(kind: "tagged", actor: "agent:7", detail: ["tag": "late"], at: 3_000)])
        }
    }

    /// Two processes changing one ticket's priority and tags at once, many times: every tag lands,
    /// and the history's priority changes form one chain (each starts where the one before ended),
    /// which two changes reading the same priority at once would break.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesChangingOneTicketTakeTurns() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            _ = try await Self.fixture(processes[0])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, process) in processes.enumerated() {
                    group.addTask {
                        for round in 0..<20 {
                            let priority: TicketPriority = [.low, .high, .urgent][(round + index) % 3]
                            try await process.ticketStore.update(
                                ticketId: 1, TicketEdit(priority: priority, addTags: ["p\(index)-\(round)"]), by: Self.ann, at: Date(ms: 1_000),
                                check: AssignmentContractTests.allow)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let sql = processes[1].sql
            #expect(try await Self.tags(sql, 1).count == 42)
            let changes = try await AssignmentContractTests.history(sql, 1).filter { $0.kind == "priority" }
            #expect(!changes.isEmpty)
            let tos = changes.map { $0.detail["to"] ?? "" }
            #expect(changes.map { $0.detail["from"] ?? "" } == ["normal"] + tos.dropLast())
            #expect(try await Self.ticket(sql, 1)[1] == .text(tos.last ?? ""))
        }
    }
}
