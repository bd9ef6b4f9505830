import Foundation
import PostgresNIO
import Synchronization
import Testing
import UniversalInbox

/// `TicketStore.merge` and `split` as every implementation must keep them: a merge moves every
/// message, queued reply, note and tag of the merged tickets and closes them pointing at the
/// survivor; a split moves exactly the chosen messages to a new queued ticket; both rebuild the
/// tickets' channels and reply identity; a refusal changes nothing. On PostgreSQL, two processes
/// merging overlapping tickets take turns: one merge wins, no message is lost.
@Suite struct MergeSplitContractTests {
    typealias History = AssignmentContractTests.History
    static let ann = AssignmentContractTests.ann
    static let allow = AssignmentContractTests.allow

    /// Kim (identities 1 on LINE, 2 on WhatsApp) has tickets 101 (Sales, urgent), 102 (Ann's,
    /// queued), 103 and 105 (closed); Lee ticket 104. Ticket 102 has a note, tags, and a reply
    /// queued in the outbox.
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
        "INSERT INTO departments (id, name, created_at) VALUES (3, 'Sales', 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1), (2, 'Lee', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES
            (1, 1, 'line/main', 'line', 'U1', 1), (2, 1, 'whatsapp/main', 'whatsapp', '+81', 1), (3, 2, 'line/main', 'line', 'U3', 1)
        """,
        """
        INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, department_id, queued_at, priority, created_at, updated_at) VALUES
            (101, 1, 'open', 1, NULL, 3, NULL, 'urgent', 1, 1), (102, 1, 'open', 2, 7, NULL, 40, 'normal', 1, 1),
            (103, 1, 'pending', 1, NULL, NULL, NULL, 'normal', 1, 1), (104, 2, 'open', 3, NULL, NULL, NULL, 'normal', 1, 1),
            (105, 1, 'closed', 1, NULL, NULL, NULL, 'normal', 1, 1)
        """,
        message(1011, ticket: 101, identity: 1, at: 10), message(1012, ticket: 101, identity: 1, at: 40),
        message(1021, ticket: 102, identity: 2, at: 5), message(1022, ticket: 102, identity: 2, at: 20, direction: "out"),
        message(1023, ticket: 102, identity: 1, at: 25),
        message(1031, ticket: 103, identity: 2, at: 45), message(1041, ticket: 104, identity: 3, at: 1),
        "INSERT INTO outbox (message_id, ticket_id, account, next_attempt_at) VALUES (1022, 102, 'whatsapp/main', 1)",
        "INSERT INTO ticket_notes (ticket_id, agent_id, author, text, created_at) VALUES (102, 7, 'Ann', 'Called Kim', 1)",
        "INSERT INTO ticket_tags (ticket_id, tag) VALUES (101, 'vip'), (102, 'vip'), (102, 'refund')",
        "INSERT INTO ticket_channels (ticket_id, channel) VALUES (101, 'line'), (102, 'whatsapp'), (102, 'line'), (103, 'whatsapp'), (104, 'line')",
    ]

    static func message(_ id: Int64, ticket: Int64, identity: Int64, at: Int64, direction: String = "in") -> String {
        let channel = identity == 2 ? "whatsapp" : "line"
        return """
            INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
            VALUES (\(id), \(ticket), \(identity), '\(direction)', '\(channel)', '\(channel)/main', '{}', 'Hello', 'received', 'k\(id)', \(at), \(at))
            """
    }

    static func messages(_ sql: PlainSQL, _ ticket: Int64) async throws -> [Int64] {
        try await sql.rows("SELECT id FROM messages WHERE ticket_id = \(ticket) ORDER BY id").compactMap { $0[0].int }
    }

    static func channels(_ sql: PlainSQL, _ ticket: Int64) async throws -> Set<String> {
        Set(try await sql.rows("SELECT channel FROM ticket_channels WHERE ticket_id = \(ticket)").compactMap { $0[0].text })
    }

    /// Status, merged into, agent, queued at, last identity, updated at.
    static func state(_ sql: PlainSQL, _ ticket: Int64) async throws -> [PlainSQL.Value] {
        try await sql.rows("SELECT status, merged_into, agent_id, queued_at, last_identity_id, updated_at FROM tickets WHERE id = \(ticket)").first ?? []
    }

    /// Everything a merge or split may change, to compare before and after a refusal.
    static func everything(_ sql: PlainSQL) async throws -> [[PlainSQL.Value]] {
        try await sql.rows("SELECT id, ticket_id FROM messages ORDER BY id")
            + sql.rows("SELECT message_id, ticket_id FROM outbox ORDER BY message_id")
            + sql.rows("SELECT id, ticket_id FROM ticket_notes ORDER BY id")
            + sql.rows("SELECT ticket_id, tag FROM ticket_tags ORDER BY ticket_id, tag")
            + sql.rows("SELECT ticket_id, channel FROM ticket_channels ORDER BY ticket_id, channel")
            + sql.rows("SELECT id, status, merged_into, agent_id, queued_at, last_identity_id, updated_at FROM tickets ORDER BY id")
            + sql.rows("SELECT count(*) FROM ticket_events")
    }

    @Test(arguments: StoreKind.available)
    func aMergeMovesMessagesNotesTagsAndChannels(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            let asked = Mutex<[Int64]>([])
            try await stores.ticketStore.merge([102, 103], into: 101, by: Self.ann, at: Date(ms: 5_000)) { id, places in
                asked.withLock { $0.append(id) }
                #expect(places.count == 1)
            }
            #expect(asked.withLock { $0 } == [101, 102, 103])
            #expect(try await Self.messages(sql, 101) == [1011, 1012, 1021, 1022, 1023, 1031])
            #expect(try await Self.messages(sql, 102) == [])
            #expect(try await Self.messages(sql, 103) == [])
            #expect(try await sql.rows("SELECT ticket_id FROM outbox") == [[.int(101)]])
            #expect(try await sql.rows("SELECT ticket_id, text FROM ticket_notes") == [[.int(101), .text("Called Kim")]])
            #expect(try await sql.rows("SELECT tag FROM ticket_tags WHERE ticket_id = 101 ORDER BY tag") == [[.text("refund")], [.text("vip")]])
            #expect(try await Self.channels(sql, 101) == ["line", "whatsapp"])
            #expect(try await Self.channels(sql, 102).isEmpty)
            #expect(try await Self.channels(sql, 103).isEmpty)
            // The survivor replies to the newest inbound message's identity (1031's WhatsApp).
            #expect(try await Self.state(sql, 101) == [.text("open"), .null, .null, .null, .int(2), .int(5_000)])
            #expect(try await Self.state(sql, 102) == [.text("closed"), .int(101), .null, .null, .int(2), .int(5_000)])
            #expect(try await Self.state(sql, 103) == [.text("closed"), .int(101), .null, .null, .int(1), .int(5_000)])
            #expect(try await AssignmentContractTests.history(sql, 101) == [
                History(kind: "merged_in", actor: "agent:7", detail: ["ticketId": "102"], at: 5_000),
                History(kind: "merged_in", actor: "agent:7", detail: ["ticketId": "103"], at: 5_000),
            ])
            #expect(try await AssignmentContractTests.history(sql, 102) == [History(kind: "merged", actor: "agent:7", detail: ["into": "101"], at: 5_000)])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRefusedMergeChangesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            let before = try await Self.everything(sql)
            let refusals: [([Int64], Int64, TicketCheck, InboxError)] = [
                // Another contact's ticket, after one that would merge: all or nothing.
                ([102, 104], 101, Self.allow, .differentContacts(104)),
                ([102, 105], 101, Self.allow, .closedTicketAssignment(105)),
                ([102], 105, Self.allow, .closedTicketAssignment(105)),
                ([102, 199], 101, Self.allow, .notFound("ticket 199")),
                ([102], 199, Self.allow, .notFound("ticket 199")),
                ([102], 101, AssignmentContractTests.refuse, .forbidden(code: "no", message: "101 [nil/3]")),
                ([102], 101, { id, _ in if id == 102 { throw InboxError.forbidden(code: "no", message: "102") } }, .forbidden(code: "no", message: "102")),
            ]
            for (others, survivor, check, error) in refusals {
                await #expect(throws: error) { try await stores.ticketStore.merge(others, into: survivor, by: Self.ann, at: Date(ms: 5_000), check: check) }
            }
            #expect(try await Self.everything(sql) == before)
            // A ticket merged before (and reopened since) is not merged again.
            try await sql.execute("UPDATE tickets SET status = 'open', merged_into = 101 WHERE id = 103")
            await #expect(throws: InboxError.alreadyMerged(103, into: 101)) {
                try await stores.ticketStore.merge([103], into: 102, by: Self.ann, at: Date(ms: 5_000), check: Self.allow)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aSplitMovesExactlyTheChosenMessages(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            let newId = try await stores.ticketStore.split(ticketId: 102, messageIds: [1022, 1023], by: Self.ann, at: Date(ms: 6_000), check: Self.allow)
            #expect(![101, 102, 103, 104, 105].contains(newId))
            #expect(try await Self.messages(sql, newId) == [1022, 1023])
            #expect(try await Self.messages(sql, 102) == [1021])
            #expect(try await Self.messages(sql, 101) == [1011, 1012])
            #expect(try await sql.rows("SELECT ticket_id FROM outbox WHERE message_id = 1022") == [[.int(newId)]])
            // The note stays: only messages and their replies move.
            #expect(try await sql.rows("SELECT ticket_id FROM ticket_notes") == [[.int(102)]])
            #expect(try await Self.channels(sql, 102) == ["whatsapp"])
            #expect(try await Self.channels(sql, newId) == ["whatsapp", "line"])
            // The new ticket: Kim's, open and queued, from its first message, replying to its newest message's identity.
            #expect(try await sql.rows("""
                SELECT contact_id, status, agent_id, department_id, priority, queued_at, created_at, last_identity_id FROM tickets WHERE id = \(newId)
                """) == [[.int(1), .text("open"), .null, .null, .text("normal"), .int(6_000), .int(20), .int(1)]])
            #expect(try await Self.state(sql, 102) == [.text("open"), .null, .int(7), .int(40), .int(2), .int(1)])
            #expect(try await AssignmentContractTests.history(sql, 102) == [
                History(kind: "split", actor: "agent:7", detail: ["newTicketId": String(newId), "messages": "1022,1023"], at: 6_000)
            ])
            #expect(try await AssignmentContractTests.history(sql, newId) == [
                History(kind: "split_from", actor: "agent:7", detail: ["ticketId": "102", "messages": "1022,1023"], at: 6_000)
            ])
            // Department and priority come along.
            let sales = try await stores.ticketStore.split(ticketId: 101, messageIds: [1012], by: Self.ann, at: Date(ms: 7_000), check: Self.allow)
            #expect(try await sql.rows("SELECT department_id, priority FROM tickets WHERE id = \(sales)") == [[.int(3), .text("urgent")]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRefusedSplitChangesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            let before = try await Self.everything(sql)
            let refusals: [(Int64, [Int64], TicketCheck, InboxError)] = [
                (102, [1021, 1011], Self.allow, .notInTicket(message: 1011, ticketId: 102)),
                (102, [1021, 1022, 1023], Self.allow, .nothingLeft(ticketId: 102)),
                (105, [1051], Self.allow, .closedTicketAssignment(105)),
                (199, [1021], Self.allow, .notFound("ticket 199")),
                (102, [1021], AssignmentContractTests.refuse, .forbidden(code: "no", message: "102 [7/nil]")),
            ]
            for (ticket, messages, check, error) in refusals {
                await #expect(throws: error) {
                    _ = try await stores.ticketStore.split(ticketId: ticket, messageIds: messages, by: Self.ann, at: Date(ms: 5_000), check: check)
                }
            }
            #expect(try await Self.everything(sql) == before)
        }
    }

    /// Two processes at once, round after round: one merges B and C into A while the other merges
    /// A and C into B, and both change A and B. One merge wins and the other finds its survivor
    /// closed; every message ends in the winner; nothing deadlocks.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesMergingOverlappingTicketsTakeTurns() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for statement in Self.fixture { try await processes[0].sql.execute(statement) }
            for round in Int64(0)..<10 {
                let (a, b, c) = (1_000 + round * 10 + 1, 1_000 + round * 10 + 2, 1_000 + round * 10 + 3)
                try await processes[0].sql.execute("""
                    INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at)
                    VALUES (\(a), 1, 'open', 1, 1, 1), (\(b), 1, 'open', 1, 1, 1), (\(c), 1, 'open', 1, 1, 1)
                    """)
                var expected: [Int64] = []
                for ticket in [a, b, c] {
                    for n in Int64(1)...3 {
                        expected.append(ticket * 10 + n)
                        try await processes[0].sql.execute(Self.message(ticket * 10 + n, ticket: ticket, identity: 1 + n % 2, at: n))
                    }
                }
                let merges = [(others: [b, c], into: a), (others: [a, c], into: b)]
                let outcomes = try await withThrowingTaskGroup(of: Int64?.self) { group in
                    for (index, process) in processes.enumerated() {
                        let merge = merges[index]
                        group.addTask {
                            do {
                                try await process.ticketStore.merge(merge.others, into: merge.into, by: Self.ann, at: Date(ms: 1_000), check: Self.allow)
                                return merge.into
                            } catch let error as InboxError {
                                #expect(error == .closedTicketAssignment(merge.into))
                                return nil
                            }
                        }
                        group.addTask {
                            try await process.ticketStore.update(
                                ticketId: merge.into, TicketEdit(priority: .high, addTags: ["r\(round)"]), by: Self.ann, at: Date(ms: 1_000),
                                check: Self.allow)
                            return nil
                        }
                    }
                    return try await group.reduce(into: [Int64]()) { if let survivor = $1 { $0.append(survivor) } }
                }
                #expect(outcomes.count == 1)
                guard let survivor = outcomes.first else { continue }
                let sql = processes[1].sql
                #expect(try await Self.messages(sql, survivor) == expected)
                #expect(try await Self.state(sql, survivor)[0] == .text("open"))
                for loser in [a, b, c] where loser != survivor {
                    #expect(try await Self.state(sql, loser)[0 ... 1] == [.text("closed"), .int(survivor)])
                }
            }
        }
    }
}
