import Foundation
import Testing
import UniversalInbox

/// `SatisfactionStore` as every implementation must keep it: which resolved tickets are still to
/// be asked for a rating, and a contact's answers newest first with what the access check needs.
@Suite struct SatisfactionContractTests {
    static let fixtures = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 1), (2, 2, 'line/main', 'line', 'U2', 1)
        """,
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
        "INSERT INTO departments (id, name, created_at) VALUES (5, 'Support', 1)",
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, department_id, resolved_at, created_at, updated_at) VALUES
            (1, 1, 'resolved', 1, 7, 5, 100, 1, 1), (2, 1, 'resolved', 1, NULL, NULL, 50, 1, 1), (3, 1, 'open', 1, NULL, NULL, 120, 1, 1),
            (4, 2, 'resolved', 2, NULL, NULL, 200, 1, 1), (5, 1, 'resolved', 1, NULL, NULL, 10, 1, 1), (6, 1, 'closed', 1, NULL, 5, 90, 1, 1),
            (7, 1, 'resolved', 1, NULL, NULL, 150, 1, 1)
        """,
        """
        INSERT INTO ratings (ticket_id, contact_id, agent_id, requested_at, state, choices, rating, rated_at) VALUES
            (2, 1, NULL, 60, 'requested', '[]', NULL, NULL), (6, 1, NULL, 95, 'requested', '[]', 'bad', 400),
            (4, 2, NULL, 210, 'requested', '[]', 'good', 500), (1, 2, 7, 110, 'requested', '[]', 'good', 300),
            (7, 1, NULL, 160, 'not_sent', '[]', NULL, NULL)
        """,
    ]

    @Test(arguments: StoreKind.available)
    func resolvedTicketsNotYetAskedAreAwaitingARequest(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixtures { try await stores.sql.execute(sql) }
            try await stores.sql.execute("DELETE FROM ratings WHERE ticket_id IN (1, 4)")
            let satisfaction = stores.satisfactionStore
            #expect(try await satisfaction.ticketsAwaitingRatingRequest(resolvedSince: Date(ms: 20), limit: 10) == [1, 4])
            #expect(try await satisfaction.ticketsAwaitingRatingRequest(resolvedSince: Date(ms: 5), limit: 10) == [5, 1, 4])
            #expect(try await satisfaction.ticketsAwaitingRatingRequest(resolvedSince: Date(ms: 5), limit: 2) == [5, 1])
            #expect(try await satisfaction.ticketsAwaitingRatingRequest(resolvedSince: Date(ms: 201), limit: 10) == [])
        }
    }

    /// Answers follow the tickets: ticket 1's rating row names contact 2, but the ticket is contact 1's.
    @Test(arguments: StoreKind.available)
    func aContactsAnswersComeNewestFirstThroughItsTickets(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixtures { try await stores.sql.execute(sql) }
            #expect(try await stores.satisfactionStore.answeredRatings(contactId: 1) == [
                AnsweredRating(ticketId: 6, rating: "bad", answeredAt: Date(ms: 400), agentId: nil, departmentId: 5),
                AnsweredRating(ticketId: 1, rating: "good", answeredAt: Date(ms: 300), agentId: 7, departmentId: 5),
            ])
            #expect(try await stores.satisfactionStore.answeredRatings(contactId: 2) == [
                AnsweredRating(ticketId: 4, rating: "good", answeredAt: Date(ms: 500), agentId: nil, departmentId: nil)
            ])
            #expect(try await stores.satisfactionStore.answeredRatings(contactId: 99) == [])
        }
    }
}
