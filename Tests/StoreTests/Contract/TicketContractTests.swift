import Foundation
import Testing
import UniversalInbox

/// `TicketStore` as every implementation must keep it: notes oldest first, an agent's note draft
/// used up by their note; read marks up to the newest message, replaced and removed; history oldest
/// first; resolved tickets closed once, however many processes close them.
@Suite struct TicketContractTests {
    /// Kim has tickets 1 and 2, Lee ticket 3; agents 7 and 8; ticket 1 has messages 10 and 11.
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1), (2, 2, 'line/main', 'line', 'U2', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1), (2, 1, 'open', 1, 1, 1), (3, 2, 'open', 2, 1, 1)",
        message(10, ticket: 1), message(11, ticket: 1),
    ]

    static func message(_ id: Int64, ticket: Int64) -> String {
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (\(id), \(ticket), 1, 'in', 'line', 'line/main', '{}', 'Hello', 'received', 'k\(id)', \(id), \(id))
        """
    }

    static func at(_ ms: Int64) -> Date { Date(ms: ms) }

    @Test(arguments: StoreKind.available)
    func notesComeOldestFirstAndUseUpTheAuthorsNoteDraft(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let tickets = stores.ticketStore
            #expect(try await tickets.notes(ticketId: 1) == [])
            #expect(try await tickets.notes(ticketId: 99) == nil)
            let reply = Draft(text: "Your order left", mode: .reply, channel: nil, updatedAt: Self.at(1))
            try await stores.drafts.save(Draft(text: "Ask the warehouse", mode: .note, channel: nil, updatedAt: Self.at(1)), ticketId: 1, agentId: 7)
            try await stores.drafts.save(Draft(text: "Bo's note", mode: .note, channel: nil, updatedAt: Self.at(1)), ticketId: 1, agentId: 8)
            try await stores.drafts.save(Draft(text: "Kim's other ticket", mode: .note, channel: nil, updatedAt: Self.at(1)), ticketId: 2, agentId: 7)
            let first = try await tickets.addNote(ticketId: 1, text: "Asked the warehouse", agentId: 7, author: "Ann", at: Self.at(1_000))
            #expect(first.ticketId == 1 && first.agentId == 7 && first.author == "Ann" && first.text == "Asked the warehouse" && first.createdAt == Self.at(1_000))
            // Ann's note draft on this ticket is used up; her other drafts and Bo's stay.
            #expect(try await stores.drafts.draft(ticketId: 1, agentId: 7) == nil)
            #expect(try await stores.drafts.draft(ticketId: 1, agentId: 8)?.text == "Bo's note")
            #expect(try await stores.drafts.draft(ticketId: 2, agentId: 7)?.text == "Kim's other ticket")
            try await stores.drafts.save(reply, ticketId: 1, agentId: 7)
            let second = try await tickets.addNote(ticketId: 1, text: "Parcel found", agentId: nil, author: "admin token", at: Self.at(2_000))
            #expect(try await stores.drafts.draft(ticketId: 1, agentId: 7) == reply)
            let third = try await tickets.addNote(ticketId: 1, text: "Told Kim", agentId: 7, author: "Ann", at: Self.at(1_500))
            // A note's reply draft is not its note draft.
            #expect(try await stores.drafts.draft(ticketId: 1, agentId: 7) == reply)
            #expect(first.id < second.id && second.id < third.id)
            #expect(try await tickets.notes(ticketId: 1) == [first, second, third])
            #expect(try await tickets.notes(ticketId: 2) == [])
        }
    }

    @Test(arguments: StoreKind.available)
    func aReadMarkReachesTheNewestMessageAndIsRemovedWhole(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let tickets = stores.ticketStore
            let marks = "SELECT ticket_id, agent_id, last_message_id FROM ticket_reads ORDER BY ticket_id, agent_id"
            try await tickets.markRead(ticketId: 1, agentId: 7, true)
            try await tickets.markRead(ticketId: 2, agentId: 7, true)
            #expect(try await stores.sql.rows(marks) == [[.int(1), .int(7), .int(11)], [.int(2), .int(7), .int(0)]])
            // A newer message: marking read again moves the mark up to it.
            try await stores.sql.execute(Self.message(12, ticket: 1))
            try await tickets.markRead(ticketId: 1, agentId: 8, true)
            #expect(try await stores.sql.rows(marks) == [[.int(1), .int(7), .int(11)], [.int(1), .int(8), .int(12)], [.int(2), .int(7), .int(0)]])
            try await tickets.markRead(ticketId: 1, agentId: 7, true)
            #expect(try await stores.sql.rows(marks) == [[.int(1), .int(7), .int(12)], [.int(1), .int(8), .int(12)], [.int(2), .int(7), .int(0)]])
            // Unread removes only that agent's mark on that ticket; removing it twice is fine.
            try await tickets.markRead(ticketId: 1, agentId: 7, false)
            try await tickets.markRead(ticketId: 1, agentId: 7, false)
            #expect(try await stores.sql.rows(marks) == [[.int(1), .int(8), .int(12)], [.int(2), .int(7), .int(0)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func historyComesOldestFirstWithItsDetail(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            try await stores.sql.execute("""
                INSERT INTO ticket_events (id, ticket_id, kind, actor, detail, created_at) VALUES
                    (5, 1, 'status', 'agent:7', '{"from":"open","to":"pending"}', 300),
                    (6, 3, 'tagged', 'system', '{"tag":"vip"}', 100),
                    (7, 1, 'merged_in', 'admin token', '{"ticketId":"2"}', 200),
                    (8, 1, 'rated', 'customer', 'not json', 400)
                """)
            let history = try #require(try await stores.ticketStore.history(ticketId: 1))
            #expect(history == [
                TicketHistoryEntry(id: 5, kind: "status", actor: "agent:7", detail: ["from": "open", "to": "pending"], createdAt: Self.at(300)),
                TicketHistoryEntry(id: 7, kind: "merged_in", actor: "admin token", detail: ["ticketId": "2"], createdAt: Self.at(200)),
                // An unreadable detail reads as empty rather than hiding the entry.
                TicketHistoryEntry(id: 8, kind: "rated", actor: "customer", detail: [:], createdAt: Self.at(400)),
            ])
            #expect(try await stores.ticketStore.history(ticketId: 2) == [])
            #expect(try await stores.ticketStore.history(ticketId: 99) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func resolvedTicketsCloseOnceTheCutoffHasPassed(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            try await stores.sql.execute("UPDATE tickets SET status = 'resolved', resolved_at = id * 100 WHERE id IN (1, 2, 3)")
            try await stores.sql.execute("UPDATE tickets SET status = 'pending', resolved_at = NULL WHERE id = 2")
            #expect(try await stores.ticketStore.closeResolved(before: Self.at(100), at: Self.at(5_000)) == [])
            #expect(try await stores.ticketStore.closeResolved(before: Self.at(301), at: Self.at(5_000)) == [1, 3])
            #expect(try await stores.sql.rows("SELECT id, status, updated_at FROM tickets ORDER BY id") == [
                [.int(1), .text("closed"), .int(5_000)], [.int(2), .text("pending"), .int(1)], [.int(3), .text("closed"), .int(5_000)],
            ])
            #expect(try await stores.ticketStore.closeResolved(before: Self.at(10_000), at: Self.at(6_000)) == [])
        }
    }

    /// Two processes' janitors closing the same resolved tickets at once: each ticket is closed,
    /// and reported (so announced on the bus), by exactly one of them.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesClosingAtOnceCloseEachTicketOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for sql in Self.fixture { try await processes[0].sql.execute(sql) }
            for round in Int64(0)..<5 {
                let ids = (Int64(1)...40).map { 100 + round * 100 + $0 }
                try await processes[0].sql.execute("""
                    INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at, resolved_at)
                    SELECT n, 1, 'resolved', 1, 1, 1, 1 FROM (VALUES \(ids.map { "(\($0))" }.joined(separator: ", "))) AS v (n)
                    """)
                async let first = processes[0].ticketStore.closeResolved(before: Self.at(2), at: Self.at(3))
                async let second = processes[1].ticketStore.closeResolved(before: Self.at(2), at: Self.at(3))
                let (a, b) = try await (first, second)
                #expect(Set(a).isDisjoint(with: b))
                #expect((a + b).sorted() == ids)
            }
        }
    }
}
