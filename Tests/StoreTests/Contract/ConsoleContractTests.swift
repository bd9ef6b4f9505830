import Foundation
import Testing
import UniversalInbox

/// `ConsoleStore` as every implementation must keep it: an event id is recorded once per account
/// (also by two processes at once), the cursor only moves forward, and a thread holds one ticket
/// and a ticket one thread.
@Suite struct ConsoleContractTests {
    static let fixture = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1), (2, 1, 'open', 1, 1, 1)",
    ]

    @Test(arguments: StoreKind.available)
    func anEventIsRecordedOncePerAccount(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let console = stores.console
            #expect(try await console.recordOnce(account: "slack/main", eventId: "e1", now: Date(ms: 1000)))
            #expect(try await !console.recordOnce(account: "slack/main", eventId: "e1", now: Date(ms: 2000)))
            #expect(try await console.recordOnce(account: "slack/other", eventId: "e1", now: Date(ms: 2000)))
            #expect(try await stores.sql.rows("SELECT received_at FROM processed_events WHERE account = 'slack/main'") == [[.int(1000)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func theCursorOnlyMovesForward(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await stores.sql.execute("INSERT INTO console_cursors (account, last_message_id) VALUES ('slack/main', 5)")
            try await stores.console.advance(account: "slack/main", past: 9)
            try await stores.console.advance(account: "slack/main", past: 7)
            #expect(try await stores.sql.rows("SELECT last_message_id FROM console_cursors") == [[.int(9)]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aThreadHoldsOneTicketAndATicketOneThread(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let console = stores.console
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
                        group.addTask { try await process.console.recordOnce(account: "slack/main", eventId: "e\(round)", now: Date(ms: 1000)) }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(answers.filter { $0 }.count == 1, "round \(round): \(answers)")
            }
        }
    }
}
