import Foundation
import Testing
import UniversalInbox

/// `ReportStore` as every implementation must keep it: each agent's figures for a period (replies,
/// first responses that were theirs, resolutions, assigned tickets, ratings) and each channel's
/// volume (a ticket on the channel it was opened on, merged ones not at all); what falls outside
/// the period does not count.
@Suite struct ReportContractTests {
    /// Ann (1) and Bo (2). Ticket 1 (LINE, Ann's) opened at 1 s, Ann replied at 4 s, resolved at
    /// 10 s, rated good. Ticket 2 (WhatsApp, Bo's, open) opened at 2 s, Bo replied at 3 s, Ann at
    /// 5 s, rated bad. Ticket 3 (LINE) was merged into 1. A LINE message at 200 s is after the period.
    static let fixture = [
        """
        INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at)
        VALUES (1, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (2, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)
        """,
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 1), (2, 1, 'whatsapp/main', 'whatsapp', '15550001', 1)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, merged_into, created_at, updated_at)
        VALUES (1, 1, 'resolved', 1, 1, NULL, 1000, 1000), (2, 1, 'open', 2, 2, NULL, 2000, 2000), (3, 1, 'closed', 1, NULL, 1, 3000, 3000)
        """,
        "INSERT INTO ticket_channels (ticket_id, channel) VALUES (1, 'line'), (2, 'whatsapp'), (3, 'line')",
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, author, created_at, updated_at)
        VALUES (1, 1, 1, 'in', 'line', 'line/main', '{}', 'hi', 'received', 'k1', NULL, 1000, 1000),
            (2, 2, 2, 'in', 'whatsapp', 'whatsapp/main', '{}', 'hi', 'received', 'k2', NULL, 2000, 2000),
            (3, 2, 2, 'out', 'whatsapp', 'whatsapp/main', '{}', 'yes', 'sent', 'k3', 'agent:2', 3000, 3000),
            (4, 1, 1, 'out', 'line', 'line/main', '{}', 'yes', 'sent', 'k4', 'agent:1', 4000, 4000),
            (5, 2, 2, 'out', 'whatsapp', 'whatsapp/main', '{}', 'more', 'sent', 'k5', 'agent:1', 5000, 5000),
            (6, 1, 1, 'in', 'line', 'line/main', '{}', 'later', 'received', 'k6', NULL, 200000, 200000)
        """,
        """
        INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at)
        VALUES (1, 'status', 'agent:1', '{"from":"open","to":"resolved"}', 10000), (2, 'status', 'agent:2', '{"from":"new","to":"open"}', 3000)
        """,
        """
        INSERT INTO ratings (ticket_id, contact_id, agent_id, requested_at, state, choices, rating, rated_at)
        VALUES (1, 1, 1, 10000, 'rated', '[]', 'good', 11000), (2, 1, 2, 10000, 'rated', '[]', 'bad', 12000)
        """,
    ]

    @Test(arguments: StoreKind.available)
    func agentFiguresCountWhatEachAgentDidInThePeriod(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let figures = try await stores.reportStore.agentFigures(from: Date(ms: 0), to: Date(ms: 100_000))
            #expect(figures == [
                AgentFigures(
                    agentId: 1, name: "Ann", ticketsHandled: 2, firstResponses: [3000], resolutions: [9000], assigned: 1, assignedDone: 1,
                    ratingsGood: 1, ratingsBad: 0),
                AgentFigures(
                    agentId: 2, name: "Bo", ticketsHandled: 1, firstResponses: [1000], resolutions: [], assigned: 1, assignedDone: 0,
                    ratingsGood: 0, ratingsBad: 1),
            ])
            // A period after it all: nothing counts.
            let later = try await stores.reportStore.agentFigures(from: Date(ms: 100_000), to: Date(ms: 300_000))
            #expect(later.map { $0.ticketsHandled + $0.firstResponses.count + $0.resolutions.count + $0.assigned + $0.ratingsGood + $0.ratingsBad } == [0, 0])
        }
    }

    @Test(arguments: StoreKind.available)
    func channelVolumesCountTicketsWhereTheyOpenedAndMessagesBothWays(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let volumes = try await stores.reportStore.channelVolumes(from: Date(ms: 0), to: Date(ms: 100_000)).sorted { $0.channel < $1.channel }
            #expect(volumes == [
                ChannelReport(channel: "line", newTickets: 1, inboundMessages: 1, outboundMessages: 1),
                ChannelReport(channel: "whatsapp", newTickets: 1, inboundMessages: 1, outboundMessages: 2),
            ])
            let later = try await stores.reportStore.channelVolumes(from: Date(ms: 100_000), to: Date(ms: 300_000))
            #expect(later == [ChannelReport(channel: "line", newTickets: 0, inboundMessages: 1, outboundMessages: 0)])
        }
    }

    @Test(arguments: StoreKind.available)
    func serviceFiguresReadEachTicketsMilestonesRatingsAndCustomerMessages(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let figures = try await stores.reportStore.serviceFigures(from: Date(ms: 0), to: Date(ms: 100_000))
            #expect(figures.agents == [AgentName(id: 1, name: "Ann"), AgentName(id: 2, name: "Bo")])
            // Ticket 3 was merged away; 1's first reply was Ann's, 2's Bo's (Ann's came later).
            #expect(figures.tickets == [
                TicketTiming(ticketId: 1, openedAt: 1000, channel: "line", agentId: 1, firstResponseAt: 4000, firstResponderId: 1, resolvedAt: 10000),
                TicketTiming(ticketId: 2, openedAt: 2000, channel: "whatsapp", agentId: 2, firstResponseAt: 3000, firstResponderId: 2, resolvedAt: nil),
            ])
            #expect(figures.ratings == [RatingTime(ratedAt: 11000, rating: .good), RatingTime(ratedAt: 12000, rating: .bad)])
            #expect(figures.inboundSlots == [SlotCount(slot: 0, count: 2)])
            // Resolved in a later period though opened before it: still read, for its resolution.
            let resolvedOnly = try await stores.reportStore.serviceFigures(from: Date(ms: 5000), to: Date(ms: 100_000))
            #expect(resolvedOnly.tickets.map(\.ticketId) == [1])
            let later = try await stores.reportStore.serviceFigures(from: Date(ms: 100_000), to: Date(ms: 300_000))
            #expect(later.tickets.isEmpty && later.ratings.isEmpty)
            #expect(later.inboundSlots == [SlotCount(slot: 0, count: 1)])
        }
    }

    @Test(arguments: StoreKind.available)
    func dailySummaryRecipientsAndADayClaimedOnce(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let reports = stores.reportStore
            #expect(try await reports.dailySummaryAgentIds() == [])
            try await reports.setDailySummary(agentId: 2, enabled: true)
            try await reports.setDailySummary(agentId: 1, enabled: true)
            try await reports.setDailySummary(agentId: 1, enabled: true)
            #expect(try await reports.dailySummaryAgentIds() == [1, 2])
            try await reports.setDailySummary(agentId: 2, enabled: false)
            #expect(try await reports.dailySummaryAgentIds() == [1])
            // A day is claimed once, by whoever comes first; another day is its own.
            #expect(try await reports.claimDailySummary(day: "2026-11-28", now: Date(ms: 1000)))
            #expect(try await !reports.claimDailySummary(day: "2026-11-28", now: Date(ms: 2000)))
            #expect(try await reports.claimDailySummary(day: "2026-11-29", now: Date(ms: 3000)))
        }
    }
}
