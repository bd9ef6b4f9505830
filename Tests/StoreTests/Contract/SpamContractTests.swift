import Foundation
import Testing
import UniversalInbox

/// `SpamStore` as every implementation must keep it: an agent's decision moves the ticket and
/// trains the filter once, as its latest label; the counts (including Japanese character pairs)
/// give the same probability on both databases; screening sends likely spam to the spam box once
/// per ticket. On PostgreSQL, with two processes: training at once loses no count, and screening
/// at once screens each ticket once.
@Suite struct SpamContractTests {
    static let ann = Caller(agentId: 7, name: "Ann", role: .agent)
    static let allow: TicketCheck = { _, _ in }
    static let refuse: TicketCheck = { id, _ in throw InboxError.forbidden(code: "no", message: "\(id)") }

    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
    ]

    static let spamTexts = [
        "WIN a FREE iPhone, click bit.ly/x now", "Congratulations you WON a free cruise, claim now", "free prize waiting, click now",
        "当選おめでとうございます！賞品を受け取ってください", "Earn $500 a day, click now",
    ]
    static let hamTexts = [
        "Where is my order 4711?", "The kettle I received is damaged", "Can I change the delivery address?",
        "注文はいつ届きますか？", "Thanks, the lamp works now",
    ]

    /// A ticket of Kim's with one customer message per text (message ids from `ticket * 100`).
    static func ticket(_ sql: PlainSQL, _ id: Int64, _ texts: [String], status: String = "open", screened: Int = 1) async throws {
        try await sql.execute("""
            INSERT INTO tickets (id, contact_id, status, last_identity_id, queued_at, screened, created_at, updated_at)
            VALUES (\(id), 1, '\(status)', 1, 50, \(screened), 1, 1)
            """)
        for (index, text) in texts.enumerated() {
            let messageId = id * 100 + Int64(index)
            try await sql.execute("""
                INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
                VALUES (\(messageId), \(id), 1, 'in', 'line', 'line/main', '{}', '\(text.replacingOccurrences(of: "'", with: "''"))', 'received', 'k\(messageId)', 1, 1)
                """)
        }
    }

    /// Tickets 1...5 spam and 11...15 not spam, decided by Ann.
    static func trained(_ stores: Stores) async throws {
        for sql in fixture { try await stores.sql.execute(sql) }
        for (index, text) in spamTexts.enumerated() {
            try await ticket(stores.sql, Int64(1 + index), [text])
            try await stores.spamStore.mark(ticketId: Int64(1 + index), spam: true, by: ann, at: Date(ms: 1_000), check: allow)
        }
        for (index, text) in hamTexts.enumerated() {
            try await ticket(stores.sql, Int64(11 + index), [text])
            try await stores.spamStore.mark(ticketId: Int64(11 + index), spam: false, by: ann, at: Date(ms: 1_000), check: allow)
        }
    }

    /// The console's threshold is kept in the database (every process reads the same), and nil
    /// means the configured one.
    @Test(arguments: StoreKind.available)
    func theConsolesThresholdIsKeptAndCleared(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            #expect(try await stores.spamStore.threshold() == nil)
            try await stores.spamStore.setThreshold(0.8)
            #expect(try await stores.spamStore.threshold() == 0.8)
            try await stores.spamStore.setMinimum(3)
            #expect(try await stores.spamStore.threshold() == 0.8)
            try await stores.spamStore.setThreshold(nil)
            #expect(try await stores.spamStore.threshold() == nil)
        }
    }

    static func tokenCount(_ sql: PlainSQL, _ token: String) async throws -> [[PlainSQL.Value]] {
        try await sql.rows("SELECT spam, ham FROM spam_tokens WHERE token = '\(token)'")
    }

    @Test(arguments: StoreKind.available)
    func aDecisionMovesTheTicketAndTrainsOnceAsTheLatestLabel(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            try await Self.ticket(sql, 1, ["free prize", "click now"])
            try await stores.spamStore.mark(ticketId: 1, spam: true, by: Self.ann, at: Date(ms: 1_000), check: Self.allow)
            #expect(try await sql.rows("SELECT status, resolution_reason, queued_at, updated_at FROM tickets WHERE id = 1")
                == [[.text("spam"), .text("spam"), .null, .int(1_000)]])
            #expect(try await sql.rows("SELECT label, tokens FROM spam_training") == [[.text("spam"), .text(#"["click","free","now","prize"]"#)]])
            #expect(try await Self.tokenCount(sql, "free") == [[.int(1), .int(0)]])
            // The same decision again: counted once.
            try await stores.spamStore.mark(ticketId: 1, spam: true, by: Self.ann, at: Date(ms: 2_000), check: Self.allow)
            #expect(try await Self.tokenCount(sql, "free") == [[.int(1), .int(0)]])
            // Restored: open again, and the words count as not spam instead.
            try await stores.spamStore.mark(ticketId: 1, spam: false, by: Self.ann, at: Date(ms: 3_000), check: Self.allow)
            #expect(try await sql.rows("SELECT status, resolution_reason FROM tickets WHERE id = 1") == [[.text("open"), .null]])
            #expect(try await Self.tokenCount(sql, "free") == [[.int(0), .int(1)]])
            #expect(try await sql.rows("SELECT label FROM spam_training") == [[.text("ham")]])
            #expect(try await sql.rows("SELECT kind, actor, detail FROM ticket_events WHERE ticket_id = 1 ORDER BY id") == [
                [.text("marked_spam"), .text("agent:7"), .text(#"{"from":"open"}"#)],
                [.text("marked_spam"), .text("agent:7"), .text(#"{"from":"spam"}"#)],
                [.text("restored_from_spam"), .text("agent:7"), .text(#"{"from":"spam"}"#)],
            ])
            // Refusals change nothing: no ticket, the check, a closed ticket.
            await #expect(throws: InboxError.notFound("ticket 99")) {
                try await stores.spamStore.mark(ticketId: 99, spam: true, by: Self.ann, at: Date(ms: 4_000), check: Self.allow)
            }
            await #expect(throws: InboxError.forbidden(code: "no", message: "1")) {
                try await stores.spamStore.mark(ticketId: 1, spam: true, by: Self.ann, at: Date(ms: 4_000), check: Self.refuse)
            }
            try await Self.ticket(sql, 2, ["free"], status: "closed")
            await #expect(throws: InboxError.closedTicketAssignment(2)) {
                try await stores.spamStore.mark(ticketId: 2, spam: true, by: Self.ann, at: Date(ms: 4_000), check: Self.allow)
            }
            #expect(try await sql.rows("SELECT ticket_id, label FROM spam_training") == [[.int(1), .text("ham")]])
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events") == 3)
        }
    }

    @Test(arguments: StoreKind.available)
    func theFilterIsTrainedOnceItHasTheMinimumOfEachKind(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await stores.spamStore.setMinimum(5)
            #expect(try await stores.sql.rows("SELECT minimum, trained FROM spam_state") == [[.int(5), .int(0)]])
            try await Self.trained(stores)
            #expect(try await stores.sql.rows("SELECT minimum, trained FROM spam_state") == [[.int(5), .int(1)]])
            try await stores.spamStore.setMinimum(6)
            #expect(try await stores.sql.rows("SELECT minimum, trained FROM spam_state") == [[.int(6), .int(0)]])
            try await stores.spamStore.setMinimum(0)
            #expect(try await stores.sql.rows("SELECT minimum, trained FROM spam_state") == [[.int(1), .int(1)]])
            let counts = try await stores.spamStore.counts(of: ["free", "注文", "unseen"])
            #expect(counts == SpamCounts(spamTickets: 5, hamTickets: 5, tokens: ["free": .init(spam: 3, ham: 0), "注文": .init(spam: 0, ham: 1)]))
        }
    }

    /// The same training on both databases gives the same counts and the same probability, to the
    /// last bit, for English and Japanese text.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func theProbabilityIsTheSameOnBothDatabases() async throws {
        let texts = ["WIN a free prize, click now", "注文した商品はいつ届きますか", "当選おめでとうございます、賞品を受け取って", "my order is damaged"]
        var answers: [StoreKind: [Double?]] = [:]
        var counts: [StoreKind: SpamCounts] = [:]
        for kind in [StoreKind.sqlite, .postgres] {
            try await Stores.with(kind) { stores throws in
                try await Self.trained(stores)
                counts[kind] = try await stores.spamStore.counts(of: texts.reduce(into: Set<String>()) { $0.formUnion(SpamWords.tokens($1)) })
                var probabilities: [Double?] = []
                for text in texts {
                    probabilities.append(SpamWords.probability(SpamWords.tokens(text), counts: try await stores.spamStore.counts(of: SpamWords.tokens(text)), minimum: 5))
                }
                answers[kind] = probabilities
            }
        }
        #expect(counts[.sqlite] == counts[.postgres])
        #expect(counts[.sqlite]?.tokens["当選"] == .init(spam: 1, ham: 0))
        #expect(counts[.sqlite]?.tokens["届き"] == .init(spam: 0, ham: 1))
        #expect(answers[.sqlite] == answers[.postgres])
        let sqlite = try #require(answers[.sqlite])
        #expect(sqlite.allSatisfy { $0 != nil })
        #expect(sqlite[0]! > 0.9 && sqlite[2]! > 0.9)
        #expect(sqlite[1]! < 0.1 && sqlite[3]! < 0.5)
    }

    @Test(arguments: StoreKind.available)
    func screeningSendsLikelySpamToTheSpamBoxOnce(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let sql = stores.sql
            for statement in Self.fixture { try await sql.execute(statement) }
            // Untrained: screened with no score, nothing flagged.
            try await Self.ticket(sql, 30, ["WIN a free prize, click now"], status: "new", screened: 0)
            #expect(try await stores.spamStore.screen(threshold: 0.9, minimum: 5, limit: 10, at: Date(ms: 5_000)).isEmpty)
            #expect(try await sql.rows("SELECT status, screened, queued_at FROM tickets WHERE id = 30") == [[.text("new"), .int(1), .int(50)]])
            #expect(try await sql.rows("SELECT count(*) FROM tickets WHERE id = 30 AND spam_score IS NULL") == [[.int(1)]])

            for (index, text) in Self.spamTexts.enumerated() {
                try await Self.ticket(sql, Int64(1 + index), [text])
                try await stores.spamStore.mark(ticketId: Int64(1 + index), spam: true, by: Self.ann, at: Date(ms: 1_000), check: Self.allow)
            }
            for (index, text) in Self.hamTexts.enumerated() {
                try await Self.ticket(sql, Int64(11 + index), [text])
                try await stores.spamStore.mark(ticketId: Int64(11 + index), spam: false, by: Self.ann, at: Date(ms: 1_000), check: Self.allow)
            }
            try await Self.ticket(sql, 31, ["free prize, click now", "当選おめでとうございます"], status: "new", screened: 0)
            try await Self.ticket(sql, 32, ["Where is my order? The kettle is damaged"], status: "new", screened: 0)
            try await Self.ticket(sql, 33, ["free prize, click now"], status: "pending", screened: 0)
            try await Self.ticket(sql, 34, ["free prize, click now"], status: "new", screened: 0)
            #expect(try await stores.spamStore.screen(threshold: 0.9, minimum: 5, limit: 3, at: Date(ms: 5_000)) == [31])
            #expect(try await stores.spamStore.screen(threshold: 0.9, minimum: 5, limit: 3, at: Date(ms: 6_000)) == [34])
            #expect(try await stores.spamStore.screen(threshold: 0.9, minimum: 5, limit: 3, at: Date(ms: 7_000)).isEmpty)
            #expect(try await sql.rows("SELECT id, status, screened, queued_at FROM tickets WHERE id > 30 ORDER BY id") == [
                [.int(31), .text("spam"), .int(1), .null], [.int(32), .text("new"), .int(1), .int(50)],
                [.int(33), .text("pending"), .int(1), .int(50)], [.int(34), .text("spam"), .int(1), .null],
            ])
            #expect(try await sql.rows("SELECT count(*) FROM tickets WHERE id > 30 AND spam_score IS NULL") == [[.int(0)]])
            let shown = { (text: String) async throws -> String in
                let tokens = SpamWords.tokens(text)
                return SpamWords.shown(try #require(SpamWords.probability(tokens, counts: try await stores.spamStore.counts(of: tokens), minimum: 5)))
            }
            #expect(try await sql.rows("SELECT ticket_id, actor, detail FROM ticket_events WHERE kind = 'spam_filter' ORDER BY id") == [
                [.int(31), .text("system"), .text(#"{"probability":"\#(try await shown("free prize, click now\n当選おめでとうございます"))"}"#)],
                [.int(34), .text("system"), .text(#"{"probability":"\#(try await shown("free prize, click now"))"}"#)],
            ])
        }
    }

    /// Two processes decide on 40 tickets with the same words at once: every decision counts.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesTrainingAtOnceLoseNoCount() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let sql = processes[0].sql
            for statement in Self.fixture { try await sql.execute(statement) }
            let tickets = Array(Int64(1)...40)
            for id in tickets { try await Self.ticket(sql, id, ["free prize \(id)", "当選 click now"]) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in tickets {
                    let process = processes[Int(id) % 2]
                    group.addTask { try await process.spamStore.mark(ticketId: id, spam: id % 3 != 0, by: Self.ann, at: Date(ms: 1_000), check: Self.allow) }
                }
                try await group.waitForAll()
            }
            let spam = Int64(tickets.filter { $0 % 3 != 0 }.count)
            #expect(try await Self.tokenCount(sql, "free") == [[.int(spam), .int(40 - spam)]])
            #expect(try await Self.tokenCount(sql, "当選") == [[.int(spam), .int(40 - spam)]])
            // Then both restore every spam ticket at once: the counts move over whole.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in tickets where id % 3 != 0 {
                    for process in processes {
                        group.addTask { try await process.spamStore.mark(ticketId: id, spam: false, by: Self.ann, at: Date(ms: 2_000), check: Self.allow) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await Self.tokenCount(sql, "free") == [[.int(0), .int(40)]])
            #expect(try await Self.tokenCount(sql, "click") == [[.int(0), .int(40)]])
        }
    }

    /// Two processes screen the same 60 new tickets at once, repeatedly: each ticket is screened,
    /// and sent to the spam box with its history entry, once.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesScreenEachTicketOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            try await Self.trained(processes[0])
            let sql = processes[0].sql
            let tickets = Array(Int64(100)..<160)
            for id in tickets { try await Self.ticket(sql, id, [id % 2 == 0 ? "free prize, click now" : "where is my order?"], status: "new", screened: 0) }
            let flagged = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for process in processes {
                    group.addTask {
                        var flagged: [Int64] = []
                        while true {
                            let round = try await process.spamStore.screen(threshold: 0.9, minimum: 5, limit: 7, at: Date(ms: 5_000))
                            flagged += round
                            if try await process.sql.int64("SELECT count(*) FROM tickets WHERE screened = 0") == 0 { return flagged }
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(flagged.sorted() == tickets.filter { $0 % 2 == 0 })
            #expect(try await sql.int64("SELECT count(*) FROM ticket_events WHERE kind = 'spam_filter'") == 30)
            #expect(try await sql.int64("SELECT count(DISTINCT ticket_id) FROM ticket_events WHERE kind = 'spam_filter'") == 30)
        }
    }
}
