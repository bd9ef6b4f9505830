import Foundation
import Testing
import UniversalInbox

/// `EventLogStore` as every implementation must keep it: the entries the database's triggers
/// append, in `seq` order with their type-specific fields and each ticket's place now; slices;
/// pruning that never lowers the head.
@Suite struct EventLogContractTests {
    /// A customer writes, Ann (agent 7) takes the ticket, it moves to Sales (department 1) and opens:
    /// five entries, one per change.
    static let fixture = [
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1)",
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'new', 1, 1, 1)",
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (1, 1, 1, 'in', 'line', 'line/main', '{}', 'Hello', 'received', 'k1', 2, 2)
        """,
        "UPDATE tickets SET agent_id = 7 WHERE id = 1",
        "UPDATE tickets SET department_id = 1 WHERE id = 1",
        "UPDATE tickets SET status = 'open' WHERE id = 1",
    ]

    @Test(arguments: StoreKind.available)
    func entriesComeInOrderWithTheirFieldsAndTheTicketsPlaceNow(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            #expect(try await stores.eventLog.head() == 0)
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let slice = try await stores.eventLog.slice(after: 0, limit: 100)
            #expect(slice.head == 5)
            #expect(slice.prunedThrough == 0)
            #expect(slice.entries.map(\.event.seq) == [1, 2, 3, 4, 5])
            #expect(slice.entries.map(\.event.type) == [.ticketOpened, .message, .assigned, .ticketUpdated, .status])
            #expect(slice.entries.allSatisfy { $0.event.ticketId == 1 && $0.place == TicketPlace(agentId: 7, departmentId: 1) })
            let (message, assigned, moved, status) = (slice.entries[1].event, slice.entries[2].event, slice.entries[3].event, slice.entries[4].event)
            #expect(message.messageId == 1 && message.direction == "in")
            #expect(assigned.agentId == 7 && assigned.before == TicketPlace(agentId: nil, departmentId: nil))
            #expect(moved.before == TicketPlace(agentId: 7, departmentId: nil))
            #expect(status.status == "open")
            let middle = try await stores.eventLog.slice(after: 2, limit: 2)
            #expect(middle.entries.map(\.event.seq) == [3, 4])
            #expect(middle.head == 5)
        }
    }

    @Test(arguments: StoreKind.available)
    func pruningKeepsTheNewestAndNeverLowersTheHead(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            #expect(try await stores.eventLog.prune(keep: 10) == 0)
            #expect(try await stores.eventLog.prune(keep: 2) == 3)
            let kept = try await stores.eventLog.slice(after: 0, limit: 100)
            #expect(kept.entries.map(\.event.seq) == [4, 5])
            #expect(kept.prunedThrough == 3)
            #expect(try await stores.eventLog.prune(keep: 0) == 2)
            let empty = try await stores.eventLog.slice(after: 0, limit: 100)
            #expect(empty.entries.isEmpty && empty.head == 5 && empty.prunedThrough == 5)
            #expect(try await stores.eventLog.head() == 5)
            // The next change continues the numbering.
            try await stores.sql.execute("UPDATE tickets SET status = 'pending' WHERE id = 1")
            #expect(try await stores.eventLog.slice(after: 5, limit: 10).entries.map(\.event.seq) == [6])
        }
    }

    /// An empty log reads as head 0; the entries of several tickets, interleaved, come back in `seq`
    /// order for any position and size, with each ticket's place, read again and again (on
    /// PostgreSQL a prepared statement's later runs, past the five after which it may be planned
    /// once for all).
    @Test(arguments: StoreKind.available)
    func slicesOfAnInterleavedLogComeInOrder(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let empty = try await stores.eventLog.slice(after: 0, limit: 10)
            #expect(empty.entries.isEmpty && empty.head == 0 && empty.prunedThrough == 0)
            for sql in Self.fixture.prefix(4) { try await stores.sql.execute(sql) }
            for id in 1...3 {
                try await stores.sql.execute(
                    "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(id), 1, 'new', 1, 1, 1)")
            }
            for status in ["open", "pending", "resolved", "open"] {
                for id in [3, 1, 2] { try await stores.sql.execute("UPDATE tickets SET status = '\(status)' WHERE id = \(id)") }
            }
            try await stores.sql.execute("UPDATE tickets SET agent_id = 7 WHERE id = 2")
            let head: Int64 = 16
            for _ in 0..<3 {
                for (after, limit) in [(0, 100), (2, 3), (7, 5), (15, 10), (16, 10), (20, 10), (0, 0)] as [(Int64, Int)] {
                    let slice = try await stores.eventLog.slice(after: after, limit: limit)
                    let last = min(after + Int64(limit), head)
                    #expect(slice.entries.map(\.event.seq) == (after < last ? Array(after + 1...last) : []), "after \(after), limit \(limit)")
                    #expect(slice.head == head && slice.prunedThrough == 0)
                    for entry in slice.entries {
                        #expect(entry.place == TicketPlace(agentId: entry.event.ticketId == 2 ? 7 : nil, departmentId: nil))
                    }
                }
            }
            let all = try await stores.eventLog.slice(after: 0, limit: 100).entries.map(\.event)
            #expect(all.prefix(3).map(\.type) == [.ticketOpened, .ticketOpened, .ticketOpened])
            #expect(all.dropFirst(3).prefix(3).map(\.ticketId) == [3, 1, 2])
        }
    }

    /// An entry of a type this binary does not know (a newer writer's) is skipped, not guessed.
    @Test(arguments: StoreKind.available)
    func anUnknownTypeIsSkipped(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture.prefix(5) { try await stores.sql.execute(sql) }
            try await stores.sql.execute("UPDATE tickets SET status = 'open' WHERE id = 1")
            try await stores.sql.execute("UPDATE events SET type = 'from_the_future' WHERE seq = 1")
            let slice = try await stores.eventLog.slice(after: 0, limit: 10)
            #expect(slice.entries.map(\.event.seq) == [2])
            #expect(slice.head == 2)
        }
    }
}
