import Foundation
import Testing
import UniversalInbox

/// `CampaignStore.ticketForOutreach` as every implementation must keep it: a contact's current
/// ticket, else a new pending one on the chosen channel's (or any) identity the customer last
/// wrote from, opened only when the check allows it; two processes asking at once open one.
@Suite struct OutreachContractTests {
    /// Kim (1) is on LINE (wrote last) and WhatsApp, with no ticket; Lee (2) is on LINE with only a
    /// closed and a spam ticket; Max (3) has no identity; Ada (4) is on SMS.
    static let fixture = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1), (3, 'Max', 1, 1), (4, 'Ada', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, last_inbound_at, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 1000, 1), (2, 1, 'whatsapp/main', 'whatsapp', '15550001', 500, 1),
            (3, 2, 'line/main', 'line', 'U2', NULL, 1), (4, 4, 'sms/main', 'sms', '15550004', NULL, 1)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at)
        VALUES (101, 2, 'closed', 3, 1, 1), (102, 2, 'spam', 3, 1, 1)
        """,
    ]

    static let allow: TicketCheck = { _, _ in }

    @Test(arguments: StoreKind.available)
    func aContactsCurrentTicketOrANewPendingOne(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let campaigns = stores.campaignStore
            let opened = try await campaigns.ticketForOutreach(contactId: 1, channel: nil, by: "agent:7", now: Date(ms: 5000), check: Self.allow)
            #expect(opened.opened)
            #expect(try await stores.sql.rows("SELECT contact_id, status, last_identity_id, created_at, updated_at FROM tickets WHERE id = \(opened.ticketId)") == [
                [.int(1), .text("pending"), .int(1), .int(5000), .int(5000)]
            ])
            #expect(try await stores.sql.rows("SELECT kind, actor FROM ticket_events WHERE ticket_id = \(opened.ticketId)") == [
                [.text("opened_for_outreach"), .text("agent:7")]
            ])
            // The current ticket is used whatever channel is asked for.
            let again = try await campaigns.ticketForOutreach(contactId: 1, channel: "whatsapp", by: "agent:7", now: Date(ms: 6000), check: Self.allow)
            #expect(again.ticketId == opened.ticketId && !again.opened)

            // Closed and spam tickets are not current; the chosen channel's identity is used.
            await #expect(throws: InboxError.noOutreachChannel(contactId: 2, channel: "whatsapp")) {
                try await campaigns.ticketForOutreach(contactId: 2, channel: "whatsapp", by: "agent:7", now: Date(ms: 7000), check: Self.allow)
            }
            let lee = try await campaigns.ticketForOutreach(contactId: 2, channel: "line", by: "agent:7", now: Date(ms: 7000), check: Self.allow)
            #expect(lee.opened && ![101, 102].contains(lee.ticketId))
            await #expect(throws: InboxError.noOutreachChannel(contactId: 3, channel: nil)) {
                try await campaigns.ticketForOutreach(contactId: 3, channel: nil, by: "agent:7", now: Date(ms: 7000), check: Self.allow)
            }
            await #expect(throws: InboxError.notFound("contact 99")) {
                try await campaigns.ticketForOutreach(contactId: 99, channel: nil, by: "agent:7", now: Date(ms: 7000), check: Self.allow)
            }

            // A ticket the check refuses is not opened; the check sees the new ticket's place.
            let forbidden = InboxError.forbidden(code: "no", message: "no")
            await #expect(throws: forbidden) {
                try await campaigns.ticketForOutreach(contactId: 4, channel: "sms", by: "agent:8", now: Date(ms: 8000), check: { _, places in
                    if places == [TicketPlace(agentId: nil, departmentId: nil)] { throw forbidden }
                })
            }
            #expect(try await stores.sql.rows("SELECT count(*) FROM tickets WHERE contact_id = 4") == [[.int(0)]])
            #expect(try await stores.sql.rows("SELECT count(*) FROM ticket_events WHERE actor = 'agent:8'") == [[.int(0)]])
        }
    }

    /// Ten contacts on SMS, each asked for eight times at once across two processes: one ticket each.
    @Test func twoProcessesAskingAtOnceOpenOneTicket() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes throws in
            try await processes[0].sql.execute("INSERT INTO contacts (id, display_name, created_at, updated_at) SELECT g, 'C', 1, 1 FROM generate_series(11, 20) g")
            try await processes[0].sql.execute("""
                INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at)
                SELECT g, g, 'sms/main', 'sms', 'P' || g, 1 FROM generate_series(11, 20) g
                """)
            let answers = try await withThrowingTaskGroup(of: (contactId: Int64, ticketId: Int64, opened: Bool).self) { group in
                for index in 0..<80 {
                    let process = processes[index % 2]
                    let contactId = Int64(11 + index % 10)
                    group.addTask {
                        let answer = try await process.campaignStore.ticketForOutreach(
                            contactId: contactId, channel: nil, by: "agent:7", now: Date(ms: 1), check: Self.allow)
                        return (contactId, answer.ticketId, answer.opened)
                    }
                }
                return try await group.reduce(into: [(contactId: Int64, ticketId: Int64, opened: Bool)]()) { $0.append($1) }
            }
            for contactId in Int64(11)...20 {
                let mine = answers.filter { $0.contactId == contactId }
                #expect(Set(mine.map(\.ticketId)).count == 1 && mine.filter(\.opened).count == 1, "contact \(contactId)")
            }
            #expect(try await processes[0].sql.rows("SELECT count(*) FROM tickets") == [[.int(10)]])
        }
    }
}
