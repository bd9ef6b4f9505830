import Foundation
import Testing
import UniversalInbox

/// `AccessStore` as every implementation must keep it: where the tickets a target is reached
/// through stand now, and nil for a target that does not exist. (The policy on those places,
/// `Caller.check`, is the domain's, tested through the API in ServerTests' access suites.)
@Suite struct AccessContractTests {
    /// Kim has two tickets: #1 Ann's (agent 7) in Sales (1), #2 unassigned in no department; message
    /// 3 with attachment 5 is on #2. Lee has no ticket.
    static let fixture = [
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1)",
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at, agent_id, department_id)
        VALUES (1, 1, 'open', 1, 1, 1, 7, 1), (2, 1, 'new', 1, 2, 2, NULL, NULL)
        """,
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (3, 2, 1, 'in', 'line', 'line/main', '{}', 'A photo', 'received', 'k1', 2, 2)
        """,
        "INSERT INTO attachments (id, message_id, account, media, status, created_at, updated_at) VALUES (5, 3, 'line/main', '{}', 'pending', 2, 2)",
    ]

    @Test(arguments: StoreKind.available)
    func placesOfEachKindOfTarget(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let ann = TicketPlace(agentId: 7, departmentId: 1)
            let nobody = TicketPlace(agentId: nil, departmentId: nil)
            let access = stores.access
            #expect(try await access.places(of: .ticket(1)) == [ann])
            #expect(try await access.places(of: .ticket(2)) == [nobody])
            #expect(try await access.places(of: .message(3)) == [nobody])
            #expect(try await access.places(of: .attachment(5)) == [nobody])
            #expect(try await access.places(of: .contact(1)) == [ann, nobody])
            #expect(try await access.places(of: .contactHistory(1)) == [ann, nobody])
            #expect(try await access.places(of: .contact(2)) == [])
            for missing: Guarded in [.ticket(9), .message(1), .attachment(1), .contact(9), .contactHistory(9)] {
                #expect(try await access.places(of: missing) == nil, "\(missing)")
            }
            // Places are read now: a transfer shows at once.
            try await stores.sql.execute("UPDATE tickets SET agent_id = NULL, department_id = 1 WHERE id = 2")
            #expect(try await access.places(of: .attachment(5)) == [TicketPlace(agentId: nil, departmentId: 1)])
        }
    }
}
