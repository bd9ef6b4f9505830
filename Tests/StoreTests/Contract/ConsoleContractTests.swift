import Foundation
import Testing
import UniversalInbox

/// `ConsoleStore` as every implementation must keep it: an event id is recorded once per account
/// (also by two processes at once); a take hands out each message once (also to two processes
/// following one console) and a failed post gives it back only while nobody took more; a thread
/// holds one ticket and a ticket one thread; a console claim gives the ticket to the agent named.
@Suite struct ConsoleContractTests {
    static let fixture = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1), (2, 1, 'open', 1, 1, 1)",
    ]

    @Test(arguments: StoreKind.available)
    func anEventIsRecordedOncePerAccount(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let console = stores.consoleStore
            #expect(try await console.recordOnce(account: "slack/main", eventId: "e1", now: Date(ms: 1000)))
            #expect(try await !console.recordOnce(account: "slack/main", eventId: "e1", now: Date(ms: 2000)))
            #expect(try await console.recordOnce(account: "slack/other", eventId: "e1", now: Date(ms: 2000)))
            #expect(try await stores.sql.rows("SELECT received_at FROM processed_events WHERE account = 'slack/main'") == [[.int(1000)]])
        }
    }

    /// Messages `ids` on ticket 1 (needs the fixture).
    static func messages(_ sql: PlainSQL, _ ids: ClosedRange<Int64>, ticket: Int64 = 1) async throws {
        for id in ids {
            try await sql.execute("""
                INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
                VALUES (\(id), \(ticket), 1, 'in', 'line', 'line/main', '{}', 'm\(id)', 'received', 'k\(id)', 1, 1)
                """)
        }
    }

    static func cursor(_ sql: PlainSQL) async throws -> [[PlainSQL.Value]] {
        try await sql.rows("SELECT account, last_message_id FROM console_cursors ORDER BY account")
    }

    @Test(arguments: StoreKind.available)
    func aTakeHandsOutTheMessagesAfterTheCursorAndMovesIt(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let console = stores.consoleStore
            try await Self.messages(stores.sql, 1...3)
            // A new console starts at the end of the stream.
            #expect(try await console.take(account: "slack/main", limit: 10).isEmpty)
            #expect(try await Self.cursor(stores.sql) == [[.text("slack/main"), .int(3)]])
            try await console.setThread(account: "slack/main", ticketId: 1, channel: "C1", thread: "t1")
            try await Self.messages(stores.sql, 4...5)
            try await Self.messages(stores.sql, 6...6, ticket: 2)
            #expect(try await console.take(account: "slack/main", limit: 2) == [
                ConsoleFeedEntry(messageId: 4, ticketId: 1, thread: "t1"), ConsoleFeedEntry(messageId: 5, ticketId: 1, thread: "t1"),
            ])
            #expect(try await Self.cursor(stores.sql) == [[.text("slack/main"), .int(5)]])
            #expect(try await console.take(account: "slack/main", limit: 2) == [ConsoleFeedEntry(messageId: 6, ticketId: 2, thread: nil)])
            #expect(try await console.take(account: "slack/main", limit: 2).isEmpty)
            // Another console has its own cursor and threads.
            #expect(try await console.take(account: "slack/other", limit: 2).isEmpty)
            try await Self.messages(stores.sql, 7...7)
            #expect(try await console.take(account: "slack/other", limit: 2) == [ConsoleFeedEntry(messageId: 7, ticketId: 1, thread: nil)])
            #expect(try await Self.cursor(stores.sql) == [[.text("slack/main"), .int(6)], [.text("slack/other"), .int(7)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aMessageGivenBackIsHandedOutAgainUnlessTheStreamMovedOn(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let console = stores.consoleStore
            #expect(try await console.take(account: "slack/main", limit: 10).isEmpty)
            try await Self.messages(stores.sql, 1...3)
            #expect(try await console.take(account: "slack/main", limit: 10).map(\.messageId) == [1, 2, 3])
            // Posting 2 failed: 2 and 3 come again.
            #expect(try await console.giveBack(account: "slack/main", from: 2, takenThrough: 3))
            #expect(try await console.take(account: "slack/main", limit: 10).map(\.messageId) == [2, 3])
            // Posting 3 failed, but another take has moved the cursor since: 3 is not handed out again.
            try await Self.messages(stores.sql, 4...4)
            #expect(try await console.take(account: "slack/main", limit: 10).map(\.messageId) == [4])
            #expect(try await !console.giveBack(account: "slack/main", from: 3, takenThrough: 3))
            #expect(try await Self.cursor(stores.sql) == [[.text("slack/main"), .int(4)]])
            #expect(try await console.take(account: "slack/main", limit: 10).isEmpty)
        }
    }

    /// Ann (7, e-mail ann@example.com), Bo (8, deactivated); ticket 3 new and queued, 4 Ann's, 5 closed.
    static let claimFixture = [
        """
        INSERT INTO agents (id, email, name, role, max_tickets, deactivated_at, created_at, updated_at)
        VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, NULL, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1, 1)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, assignee, queued_at, created_at, updated_at)
        VALUES (3, 1, 'new', 1, NULL, NULL, 50, 1, 1), (4, 1, 'open', 1, 7, 'Ann', NULL, 1, 1), (5, 1, 'closed', 1, NULL, NULL, NULL, 1, 1)
        """,
    ]

    static func ticketState(_ sql: PlainSQL, _ id: Int64) async throws -> [PlainSQL.Value] {
        try await sql.rows("SELECT status, agent_id, assignee, queued_at, updated_at FROM tickets WHERE id = \(id)").first ?? []
    }

    @Test(arguments: StoreKind.available)
    func aConsoleClaimGivesTheTicketToTheAgentNamedOrShowsTheName(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture + Self.claimFixture { try await sql.execute(statement) }
            let console = stores.consoleStore
            #expect(try await console.claim(ticketId: 3, by: "ann@example.com", at: Date(ms: 1_000)) == 7)
            #expect(try await Self.ticketState(sql, 3) == [.text("open"), .int(7), .text("Ann"), .null, .int(1_000)])
            // By name in any case; a deactivated agent is nobody, so is a stranger: the name shows.
            #expect(try await console.claim(ticketId: 1, by: "ANN", at: Date(ms: 2_000)) == 7)
            #expect(try await console.claim(ticketId: 4, by: "bo@example.com", at: Date(ms: 3_000)) == nil)
            #expect(try await Self.ticketState(sql, 4) == [.text("open"), .null, .text("bo@example.com"), .null, .int(3_000)])
            #expect(try await sql.rows("SELECT ticket_id, kind, actor, detail FROM ticket_events ORDER BY id") == [
                [.int(3), .text("assigned"), .text("ann@example.com"), .text(#"{"agentId":"7","how":"claim from a console"}"#)],
                [.int(1), .text("assigned"), .text("ANN"), .text(#"{"agentId":"7","how":"claim from a console"}"#)],
                [.int(4), .text("assigned"), .text("bo@example.com"), .text(#"{"how":"claim from a console"}"#)],
            ])
            // Refusals change nothing: no ticket, a closed ticket.
            await #expect(throws: InboxError.notFound("ticket 99")) { try await console.claim(ticketId: 99, by: "ann@example.com", at: Date(ms: 4_000)) }
            await #expect(throws: InboxError.closedTicketAssignment(5)) { try await console.claim(ticketId: 5, by: "ann@example.com", at: Date(ms: 4_000)) }
            #expect(try await Self.ticketState(sql, 5) == [.text("closed"), .null, .null, .null, .int(1)])
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events") == 3)
        }
    }

    /// Two processes follow one console at once, in small reads: every
    /// message is handed out, to one of them.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesFollowingOneConsoleGetEachMessageOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let sql = processes[0].sql
            for statement in Self.fixture { try await sql.execute(statement) }
            #expect(try await processes[0].consoleStore.take(account: "slack/main", limit: 5).isEmpty)
            try await Self.messages(sql, 1...150)
            let taken = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for process in processes {
                    group.addTask {
                        var taken: [Int64] = []
                        while true {
                            let entries = try await process.consoleStore.take(account: "slack/main", limit: 3)
                            if entries.isEmpty { return taken }
                            taken += entries.map(\.messageId)
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            #expect(taken.joined().sorted() == Array(1...150))
            #expect(taken.allSatisfy { $0 == $0.sorted() })
        }
    }

    @Test(arguments: StoreKind.available)
    func aThreadHoldsOneTicketAndATicketOneThread(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let console = stores.consoleStore
            try await console.setThread(account: "slack/main", ticketId: 1, channel: "C1", thread: "t1")
            #expect(try await console.thread(account: "slack/main", ticketId: 1) == "t1")
            #expect(try await console.ticket(account: "slack/main", channel: "C1", thread: "t1") == 1)
            #expect(try await console.ticket(account: "slack/main", channel: "C2", thread: "t1") == nil)
            #expect(try await console.thread(account: "slack/other", ticketId: 1) == nil)
            // The ticket moves to a new thread: the old one no longer leads to it.
            try await console.setThread(account: "slack/main", ticketId: 1, channel: "C1", thread: "t2")
            #expect(try await console.ticket(account: "slack/main", channel: "C1", thread: "t1") == nil)
            #expect(try await console.thread(account: "slack/main", ticketId: 1) == "t2")
            // Another ticket takes the thread: it is that ticket's now.
            try await console.setThread(account: "slack/main", ticketId: 2, channel: "C1", thread: "t2")
            #expect(try await console.ticket(account: "slack/main", channel: "C1", thread: "t2") == 2)
            #expect(try await console.thread(account: "slack/main", ticketId: 1) == nil)
        }
    }

    /// Two bridge processes handed the same console event (a retry reaching the other process):
    /// exactly one of them acts on it.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesRecordAnEventOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            for round in 0..<30 {
                let answers = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for process in processes {
                        group.addTask { try await process.consoleStore.recordOnce(account: "slack/main", eventId: "e\(round)", now: Date(ms: 1000)) }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(answers.filter { $0 }.count == 1, "round \(round): \(answers)")
            }
        }
    }
}
