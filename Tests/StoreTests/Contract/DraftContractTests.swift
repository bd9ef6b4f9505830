import Foundation
import Testing
import UniversalInbox

/// `DraftStore` as every implementation must keep it: one draft per agent per ticket, replaced
/// whole; a channel the ticket's contact is not on is refused and saves nothing; deleting what is
/// not there is fine.
@Suite struct DraftContractTests {
    /// Kim (LINE and WhatsApp) has ticket 1; Lee (LINE only) ticket 2; agents 7 and 8.
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 1), (2, 1, 'whatsapp/main', 'whatsapp', '15550001', 1), (3, 2, 'line/main', 'line', 'U2', 1)
        """,
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1), (2, 2, 'open', 3, 1, 1)",
    ]

    static func at(_ ms: Int64) -> Date { Date(ms: ms) }

    @Test(arguments: StoreKind.available)
    func oneDraftPerAgentPerTicketReplacedWhole(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let drafts = stores.drafts
            #expect(try await drafts.draft(ticketId: 1, agentId: 7) == nil)
            let first = Draft(text: "Your order left", mode: .reply, channel: "whatsapp/main", updatedAt: Self.at(1_000))
            try await drafts.save(first, ticketId: 1, agentId: 7)
            #expect(try await drafts.draft(ticketId: 1, agentId: 7) == first)
            // Another agent, another ticket: their own drafts.
            #expect(try await drafts.draft(ticketId: 1, agentId: 8) == nil)
            #expect(try await drafts.draft(ticketId: 2, agentId: 7) == nil)
            let note = Draft(text: "Ask the warehouse", mode: .note, channel: nil, updatedAt: Self.at(2_000))
            try await drafts.save(note, ticketId: 1, agentId: 7)
            #expect(try await drafts.draft(ticketId: 1, agentId: 7) == note)
            try await drafts.delete(ticketId: 1, agentId: 7)
            #expect(try await drafts.draft(ticketId: 1, agentId: 7) == nil)
            try await drafts.delete(ticketId: 1, agentId: 7)
        }
    }

    @Test(arguments: StoreKind.available)
    func aChannelTheCustomerIsNotOnSavesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let drafts = stores.drafts
            let kept = Draft(text: "Hello Lee", mode: .reply, channel: "line/main", updatedAt: Self.at(1_000))
            try await drafts.save(kept, ticketId: 2, agentId: 7)
            // Lee is not on WhatsApp (Kim is, on another ticket): refused, and the draft stays as it was.
            let refused = Draft(text: "Hello on WhatsApp", mode: .reply, channel: "whatsapp/main", updatedAt: Self.at(2_000))
            await #expect(throws: InboxError.noSuchChannel(ticketId: 2, channel: "whatsapp/main")) {
                try await drafts.save(refused, ticketId: 2, agentId: 7)
            }
            #expect(try await drafts.draft(ticketId: 2, agentId: 7) == kept)
            await #expect(throws: InboxError.noSuchChannel(ticketId: 2, channel: "whatsapp/main")) {
                try await drafts.save(refused, ticketId: 2, agentId: 8)
            }
            #expect(try await drafts.draft(ticketId: 2, agentId: 8) == nil)
        }
    }
}
