import Foundation
import GRDB
import Testing
import UniversalInbox

/// A status or kind column with a value this version does not know is an error that names it,
/// never read as some default (a ticket shown as open, an agent as offline).
@Suite struct StoredEnumsTests {
    func ticketWithCustomer(_ inbox: Inbox) async throws -> Int64 {
        _ = try await inbox.ingest([textEvent("e1")], from: lineMain)
        return try await inbox.listTickets(TicketQuery()).items[0].id
    }

    @Test func anUnknownStatusIsAnErrorNotADefault() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        try await inbox.database.pool.write { db in
            try db.execute(sql: "UPDATE tickets SET status = 'archived', priority = 'whenever' WHERE id = ?", arguments: [ticket])
        }
        await #expect(throws: UnknownStoredValue(column: "status", type: "TicketStatus", value: "archived")) {
            _ = try await inbox.ticket(id: ticket)
        }
        try await inbox.database.pool.write { db in
            try db.execute(sql: "UPDATE tickets SET status = 'open' WHERE id = ?", arguments: [ticket])
        }
        await #expect(throws: UnknownStoredValue(column: "priority", type: "TicketPriority", value: "whenever")) {
            _ = try await inbox.ticket(id: ticket)
        }
    }

    @Test func anUnknownMessageDirectionOrAgentRoleIsAnError() async throws {
        let inbox = try makeInbox()
        let ticket = try await ticketWithCustomer(inbox)
        try await inbox.database.pool.write { db in
            try db.execute(sql: "UPDATE messages SET direction = 'sideways' WHERE ticket_id = ?", arguments: [ticket])
            try db.execute(sql: """
                INSERT INTO agents (email, name, role, max_tickets, availability, created_at, updated_at)
                VALUES ('x@example.com', 'X', 'overlord', 5, 'online', 1, 1)
                """)
        }
        await #expect(throws: UnknownStoredValue(column: "direction", type: "MessageDirection", value: "sideways")) {
            _ = try await inbox.messages(ticketId: ticket)
        }
        await #expect(throws: UnknownStoredValue(column: "role", type: "AgentRole", value: "overlord")) {
            _ = try await inbox.agents()
        }
    }
}
