import Foundation
import Synchronization
import Testing
import UniversalInbox

/// `TicketQueryStore` as every implementation must keep it: the same tickets, in the same order,
/// with the same positions, for every filter, for search in English and Japanese (3+ characters
/// through the index, 1 and 2 by a scan), for the longest-waiting list and for counts.
@Suite struct TicketQueryContractTests {
    /// Newest activity first the tickets are 6, 1 (both 9000, the higher id first), 2, 3, 4, 5.
    /// Waiting (a customer message after the last reply): 2 since 2000, 3 since 3000, 6 since 6000.
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)",
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1), (2, 'Support', 1)",
        """
        INSERT INTO contacts (id, display_name, email, created_at, updated_at)
        VALUES (1, 'Kim Tanaka', 'kim@example.com', 1, 1), (2, 'Lee Park', NULL, 1, 1), (3, '佐藤花子', NULL, 1, 1), (4, 'Al', NULL, 1, 1)
        """,
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, phone, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', NULL, 1), (2, 1, 'whatsapp/main', 'whatsapp', '15550001', '15550001', 1),
               (3, 2, 'line/main', 'line', 'U2', NULL, 1), (4, 3, 'line/main', 'line', 'U3', NULL, 1), (5, 4, 'sms/main', 'sms', '15550004', '15550004', 1)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, department_id, priority, created_at, updated_at, resolved_at)
        VALUES (1, 1, 'open', 1, 7, 1, 'high', 1000, 9000, NULL), (2, 2, 'pending', 3, NULL, 2, 'normal', 2000, 8000, NULL),
               (3, 3, 'new', 4, 8, 2, 'urgent', 3000, 7000, NULL), (4, 4, 'resolved', 5, 7, NULL, 'low', 4000, 6000, 6000),
               (5, 1, 'closed', 1, NULL, 1, 'normal', 500, 5000, NULL), (6, 2, 'open', 3, NULL, NULL, 'normal', 6000, 9000, NULL)
        """,
        "INSERT INTO ticket_channels (ticket_id, channel) VALUES (1, 'line'), (1, 'whatsapp'), (2, 'line'), (3, 'line'), (4, 'sms'), (5, 'line'), (6, 'line')",
        "INSERT INTO ticket_tags (ticket_id, tag) VALUES (1, 'vip'), (1, 'billing'), (3, 'vip'), (6, 'billing')",
        "INSERT INTO custom_fields (id, scope, key, label, type, created_at) VALUES (1, 'ticket', 'order', 'Order', 'text', 1), (2, 'contact', 'plan', 'Plan', 'text', 1)",
        "INSERT INTO ticket_fields (ticket_id, field_id, value) VALUES (1, 1, 'A-1'), (3, 1, 'A-3')",
        "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (3, 2, 'gold')",
        message(1, ticket: 5, identity: 1, "in", "line", "My refund please", at: 400),
        message(2, ticket: 1, identity: 1, "in", "line", "Where is my order? I want a refund", at: 1000),
        message(3, ticket: 1, identity: 2, "out", "whatsapp", "We are on it", at: 1100, author: "Ann"),
        message(4, ticket: 2, identity: 3, "in", "line", "Order 4711 is late", at: 2000),
        message(5, ticket: 3, identity: 4, "in", "line", "配送が遅れています", at: 3000),
        message(6, ticket: 4, identity: 5, "in", "sms", "refund refund", at: 4000),
        message(7, ticket: 4, identity: 5, "out", "sms", "Done", at: 4100, author: "Ann"),
        message(8, ticket: 6, identity: 3, "in", "line", "ok thanks", at: 6000),
        message(9, ticket: 2, identity: 3, "in", "line", "配送について", at: 2500),
        message(10, ticket: 5, identity: 1, "out", "line", "Refunded", at: 450, author: "Ann"),
        "INSERT INTO ticket_reads (ticket_id, agent_id, last_message_id) VALUES (1, 7, 3)",
    ]

    static func message(
        _ id: Int64, ticket: Int64, identity: Int64, _ direction: String, _ channel: String, _ text: String, at: Int64, author: String? = nil
    ) -> String {
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, author, created_at, updated_at)
        VALUES (\(id), \(ticket), \(identity), '\(direction)', '\(channel)', '\(channel)/main', '{}', '\(text)', 'received', 'k\(id)',
                \(author.map { "'\($0)'" } ?? "NULL"), \(at), \(at))
        """
    }

    /// The fixture, indexed where the database indexes after commits.
    static func seeded(_ stores: Stores) async throws -> any TicketQueryStore {
        for sql in fixture { try await stores.sql.execute(sql) }
        while try await stores.ticketQueries.indexNewMessages(limit: 4) > 0 {}
        return stores.ticketQueries
    }

    static func filter(_ change: (inout TicketFilter) -> Void) -> TicketFilter {
        var filter = TicketFilter()
        change(&filter)
        return filter
    }

    /// Every page of a list, following its positions.
    static func pages(
        limit: Int, _ page: (TicketListPosition?) async throws -> TicketListPage
    ) async throws -> (ids: [[Int64]], positions: [TicketListPosition]) {
        var ids: [[Int64]] = []
        var positions: [TicketListPosition] = []
        var after: TicketListPosition?
        repeat {
            let next = try await page(after)
            ids.append(next.items.map(\.id))
            after = next.next
            if let after { positions.append(after) }
        } while after != nil && ids.count < 10
        return (ids, positions)
    }

    static func newest(
        _ store: any TicketQueryStore, _ filter: TicketFilter = TicketFilter(), words: [String] = [], limit: Int = 50
    ) async throws -> [Int64] {
        try await store.newest(filter, containing: words, after: nil, limit: limit, reader: nil, limits: SearchLimits()).items.map(\.id)
    }

    static func search(_ store: any TicketQueryStore, _ terms: [String], _ filter: TicketFilter = TicketFilter()) async throws -> [Int64] {
        try await store.search(filter, terms: terms, after: nil, limit: 50, reader: nil, limits: SearchLimits()).items.map(\.id)
    }

    @Test(arguments: StoreKind.available)
    func eachFilterListsItsTicketsNewestFirst(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            #expect(try await Self.newest(store) == [6, 1, 2, 3, 4, 5])
            #expect(try await Self.newest(store, Self.filter { $0.status = .open }) == [6, 1])
            #expect(try await Self.newest(store, Self.filter { $0.activeOnly = true }) == [6, 1, 2, 3])
            #expect(try await Self.newest(store, Self.filter { $0.channel = "whatsapp" }) == [1])
            #expect(try await Self.newest(store, Self.filter { $0.channel = "line" }) == [6, 1, 2, 3, 5])
            #expect(try await Self.newest(store, Self.filter { $0.agentId = 7 }) == [1, 4])
            #expect(try await Self.newest(store, Self.filter { $0.unassigned = true }) == [6, 2, 5])
            #expect(try await Self.newest(store, Self.filter { $0.departmentId = 2 }) == [2, 3])
            #expect(try await Self.newest(store, Self.filter { $0.tag = "vip" }) == [1, 3])
            #expect(try await Self.newest(store, Self.filter { $0.priority = .high }) == [1])
            #expect(try await Self.newest(store, Self.filter { $0.ticketFields = ["order": "A-1"] }) == [1])
            #expect(try await Self.newest(store, Self.filter { $0.contactFields = ["plan": "gold"] }) == [3])
            #expect(try await Self.newest(store, Self.filter { $0.createdFrom = Date(ms: 2000); $0.createdBefore = Date(ms: 6000) }) == [2, 3, 4])
            #expect(try await Self.newest(store, Self.filter { $0.tag = "billing"; $0.status = .open }) == [6, 1])
        }
    }

    @Test(arguments: StoreKind.available)
    func aContactIsFoundByNameIdentityEmailOrId(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            // Part of a name, any case: 3+ characters through the index, fewer by a scan.
            #expect(try await Self.newest(store, Self.filter { $0.contact = "tanaka" }) == [1, 5])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "佐藤" }) == [3])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "花子" }) == [3])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "AL" }) == [4])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "U2" }) == [6, 2])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "+1 555-0004" }) == [4])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "KIM@example.com" }) == [1, 5])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "3" }) == [3])
            #expect(try await Self.newest(store, Self.filter { $0.contact = "50%_" }) == [])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRestrictedAgentSeesTheirOwnAndTheirDepartmentsTickets(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let bo = TicketVisibility(agentId: 8, departments: [1])
            #expect(try await Self.newest(store, Self.filter { $0.visibility = bo }) == [1, 3, 5])
            #expect(try await Self.newest(store, Self.filter { $0.visibility = TicketVisibility(agentId: 9, departments: []) }) == [])
            #expect(try await Self.search(store, ["refund"], Self.filter { $0.visibility = bo }) == [5, 1])
            #expect(try await store.count(["bo": Self.filter { $0.visibility = bo }]) == ["bo": 3])
        }
    }

    @Test(arguments: StoreKind.available)
    func pagesFollowTheirPositions(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let newest = try await Self.pages(limit: 2) { after in
                try await store.newest(TicketFilter(), containing: [], after: after, limit: 2, reader: nil, limits: SearchLimits())
            }
            #expect(newest.ids == [[6, 1], [2, 3], [4, 5]])
            #expect(newest.positions == [.newest(updatedAt: 9000, id: 1), .newest(updatedAt: 7000, id: 3)])
            let waiting = try await Self.pages(limit: 2) { after in
                try await store.longestWaiting(TicketFilter(), after: after, limit: 2, reader: nil, limits: SearchLimits())
            }
            #expect(waiting.ids == [[2, 3], [6, 1], [4, 5]])
            #expect(waiting.positions == [.waiting(since: 3000, id: 3), .answered(updatedAt: 9000, id: 1)])
            let search = try await Self.pages(limit: 2) { after in
                try await store.search(TicketFilter(), terms: ["refund"], after: after, limit: 2, reader: nil, limits: SearchLimits())
            }
            // Each ticket by its newest match: 5 (message 10, "Refunded"), 4 (6), 1 (2).
            #expect(search.ids == [[5, 4], [1]])
            #expect(search.positions == [.match(messageId: 6)])
        }
    }

    /// A channel that few of the other filters' tickets have: here 60 active SMS tickets newer than
    /// ticket 6 and 60 between tickets 1 and 2 hide the active LINE tickets from a walk of the
    /// newest 40 (PostgreSQL then takes the channel's tickets as a set); pages stay the same.
    @Test(arguments: StoreKind.available)
    func aChannelRareAmongTheOtherFiltersTicketsIsStillListedInOrder(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let hiding: [Int] = Array(101...220)
            let tickets: [String] = hiding.map { id in "(\(id), 4, 'open', 5, 'normal', 100, \(id <= 160 ? 10_000 + id : 8_500 + id - 160))" }
            let channels: [String] = hiding.map { id in "(\(id), 'sms')" }
            try await stores.sql.execute(
                "INSERT INTO tickets (id, contact_id, status, last_identity_id, priority, created_at, updated_at) VALUES " + tickets.joined(separator: ", "))
            try await stores.sql.execute("INSERT INTO ticket_channels (ticket_id, channel) VALUES " + channels.joined(separator: ", "))
            let line = Self.filter { $0.activeOnly = true; $0.channel = "line" }
            let pages = try await Self.pages(limit: 1) { after in
                try await store.newest(line, containing: [], after: after, limit: 1, reader: nil, limits: SearchLimits())
            }
            #expect(pages.ids == [[6], [1], [2], [3]])
            #expect(try await Self.newest(store, line) == [6, 1, 2, 3])
            #expect(try await store.count(["line": line]) == ["line": 4])
        }
    }

    @Test(arguments: StoreKind.available)
    func searchFindsEnglishAndJapaneseWordsOfAnyLength(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            #expect(try await Self.search(store, ["refund"]) == [5, 4, 1])
            #expect(try await Self.search(store, ["REFUND"]) == [5, 4, 1])
            #expect(try await Self.search(store, ["配送が"]) == [3])
            #expect(try await Self.search(store, ["遅れています"]) == [3])
            // Every term in one message: "order" is in 1 and 2, "late" only in 2's.
            #expect(try await Self.search(store, ["order", "late"]) == [2])
            #expect(try await Self.search(store, ["refund"], Self.filter { $0.status = .closed }) == [5])
            // LIKE's wildcards are letters like any other.
            #expect(try await Self.search(store, ["_efund"]) == [])
            #expect(try await Self.search(store, ["%und"]) == [])
            // One and two characters: a scan of each ticket's messages, newest activity first.
            #expect(try await Self.newest(store, words: ["配送"]) == [2, 3])
            #expect(try await Self.newest(store, words: ["遅"]) == [3])
            #expect(try await Self.newest(store, words: ["?"]) == [1])
            #expect(try await Self.newest(store, words: ["OK"]) == [6])
            #expect(try await Self.newest(store, Self.filter { $0.status = .pending }, words: ["配送"]) == [2])
            // A message written after the index was last filled is found as well (on SQLite, the
            // unindexed tail), and its ticket moves to the front.
            try await stores.sql.execute(Self.message(11, ticket: 2, identity: 3, "in", "line", "Refund for order 4711", at: 2600))
            #expect(try await Self.search(store, ["refund"]) == [2, 5, 4, 1])
            let first = try await store.search(TicketFilter(), terms: ["refund"], after: nil, limit: 1, reader: nil, limits: SearchLimits())
            #expect(first.items.map(\.id) == [2] && first.next == .match(messageId: 11))
            let second = try await store.search(TicketFilter(), terms: ["refund"], after: first.next, limit: 3, reader: nil, limits: SearchLimits())
            #expect(second.items.map(\.id) == [5, 4, 1] && second.next == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aListedTicketIsSummarizedAlike(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let page = try await store.newest(Self.filter { $0.agentId = 7 }, containing: [], after: nil, limit: 50, reader: 7, limits: SearchLimits())
            let expected = TicketSummary(
                id: 1, status: .open, contact: ContactSummary(id: 1, displayName: "Kim Tanaka"), channels: ["line", "whatsapp"],
                createdAt: Date(ms: 1000), updatedAt: Date(ms: 9000), resolvedAt: nil, assignee: nil, agentId: 7, departmentId: 1,
                priority: .high, tags: ["billing", "vip"], resolutionReason: nil, mergedInto: nil, queuedAt: nil, version: 3, unread: false,
                fields: ["order": "A-1"], lastMessage: TicketSummary.LastMessage(direction: "out", text: "We are on it", createdAt: Date(ms: 1100)),
                waitingSince: nil)
            #expect(page.items.first == expected)
            // Agent 7 has read nothing of ticket 4; the admin (no reader) is told nothing.
            #expect(page.items.last?.unread == true)
            let waiting = try await store.longestWaiting(TicketFilter(), after: nil, limit: 1, reader: nil, limits: SearchLimits())
            #expect(waiting.items.first?.waitingSince == Date(ms: 2000) && waiting.items.first?.unread == nil)
            #expect(waiting.items.first?.lastMessage?.text == "配送について")
        }
    }

    @Test(arguments: StoreKind.available)
    func countsMatchTheLists(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let counts = try await store.count([
                "open": Self.filter { $0.status = .open }, "mine": Self.filter { $0.agentId = 7 }, "line": Self.filter { $0.channel = "line" },
                "kim": Self.filter { $0.contact = "Kim" }, "al": Self.filter { $0.contact = "al" }, "all": TicketFilter(),
                "vip": Self.filter { $0.tag = "vip"; $0.activeOnly = true },
            ])
            #expect(counts == ["open": 2, "mine": 2, "line": 5, "kim": 2, "al": 1, "all": 6, "vip": 2])
            #expect(try await store.count([:]) == [:])
        }
    }

    @Test(arguments: StoreKind.available)
    func theLongestWaitingListTakesTheFilters(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let open = try await store.longestWaiting(Self.filter { $0.status = .open }, after: nil, limit: 50, reader: nil, limits: SearchLimits())
            #expect(open.items.map(\.id) == [6, 1] && open.next == nil)
            // A reply answers ticket 2: it leaves the waiting part for the answered one.
            try await stores.sql.execute(Self.message(12, ticket: 2, identity: 3, "out", "line", "Sorry for the wait", at: 2700, author: "Ann"))
            let all = try await store.longestWaiting(TicketFilter(), after: nil, limit: 50, reader: nil, limits: SearchLimits())
            #expect(all.items.map(\.id) == [3, 6, 1, 2, 4, 5])
        }
    }

    /// On PostgreSQL the trigram index is kept by the writing transaction: a message another bridge
    /// process commits is found by the next search, with nothing to index (`indexNewMessages` is 0).
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aMessageAnotherProcessCommitsIsFoundAtOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let store = try await Self.seeded(processes[0])
            try await processes[1].sql.execute(Self.message(11, ticket: 2, identity: 3, "in", "line", "Refund for order 4711", at: 2600))
            #expect(try await Self.search(store, ["refund"]) == [2, 5, 4, 1])
            #expect(try await processes[1].ticketQueries.indexNewMessages(limit: 100) == 0)
        }
    }

    /// A clock whose first reading starts the deadline and whose later readings are past it.
    final class JumpingClock: Sendable {
        let start = ContinuousClock.now
        let readings = Mutex(0)

        func now() -> ContinuousClock.Instant {
            readings.withLock { count in
                count += 1
                return count == 1 ? start : start + .seconds(60)
            }
        }
    }

    /// A search that runs past its deadline stops with `SearchTooCostly` (SQLite looks at the clock
    /// for each candidate message, PostgreSQL before each statement).
    @Test(arguments: StoreKind.available)
    func aSearchPastTheDeadlineIsTooCostly(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = try await Self.seeded(stores)
            let clock = JumpingClock()
            await #expect(throws: SearchTooCostly.self) {
                try await store.search(
                    TicketFilter(), terms: ["refund"], after: nil, limit: 5, reader: nil, limits: SearchLimits(timeout: .seconds(5), now: clock.now))
            }
            // With time to spare it answers.
            #expect(try await Self.search(store, ["refund"]) == [5, 4, 1])
        }
    }
}
