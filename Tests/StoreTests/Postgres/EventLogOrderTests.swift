import Foundation
import PostgresNIO
import PostgresStore
import Testing

/// The event log's `seq` on PostgreSQL is commit order and gap-free: a writer appending while
/// another's transaction holds earlier numbers waits for it (the row lock on `event_seq`), and a
/// rolled-back transaction gives its numbers back.
@Suite struct EventLogOrderTests {
    let logger = TestServer.logger

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func seqOrderIsCommitOrderUnderTwoWriters() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let a = try await PostgresConnector.connect(settings, logger: logger)
            let b = try await PostgresConnector.connect(settings, logger: logger)
            // Watches B from outside any transaction (pg_stat_activity is a snapshot within one).
            let observer = try await PostgresConnector.connect(settings, logger: logger)
            defer {
                Task { [a, b, observer] in
                    try? await a.close()
                    try? await b.close()
                    try? await observer.close()
                }
            }
            let (contact, identity) = try await Self.customer(a)
            let bPid = try await b.value("SELECT pg_backend_pid()", as: Int32.self)
            var commitOrder: [Int64] = []  // tickets, in the order their transactions committed

            for _ in 0..<3 {
                // A opens a ticket (takes a number) and stays open.
                try await a.query("BEGIN", logger: logger)
                let first = try await Self.openTicket(a, contact: contact, identity: identity)
                // B opens one meanwhile, in its own transaction.
                try await b.query("BEGIN", logger: logger)
                let bDone = Flag()
                let bTicket = Task {
                    defer { bDone.set() }
                    return try await Self.openTicket(b, contact: contact, identity: identity)
                }
                // Wait until B's append has returned or waits on a lock (a condition, not a time).
                while !bDone.isSet {
                    let waiting = try await observer.value(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = \(bPid) AND wait_event_type = 'Lock'", as: Int.self)
                    if waiting == 1 { break }
                    try await Task.sleep(for: .milliseconds(2))
                }
                // A appends again and commits first; then B commits.
                let second = try await Self.openTicket(a, contact: contact, identity: identity)
                try await a.query("COMMIT", logger: logger)
                commitOrder += [first, second]
                let third = try await bTicket.value
                try await b.query("COMMIT", logger: logger)
                commitOrder.append(third)
            }

            // A writer that rolls back returns its numbers: the next commit continues without a gap.
            try await a.query("BEGIN", logger: logger)
            _ = try await Self.openTicket(a, contact: contact, identity: identity)
            try await a.query("ROLLBACK", logger: logger)
            commitOrder.append(try await Self.openTicket(b, contact: contact, identity: identity))

            let opened = try await a.values("SELECT ticket_id FROM events WHERE type = 'ticket_opened' ORDER BY seq", as: Int64.self)
            #expect(opened == commitOrder)
            let seqs = try await a.values("SELECT seq FROM events ORDER BY seq", as: Int64.self)
            #expect(seqs == Array(1...Int64(seqs.count)))
            #expect(try await a.value("SELECT seq FROM event_seq", as: Int64.self) == Int64(seqs.count))
        }
    }

    /// A transaction's appends notify `bridge_events` once, with no payload, after its commit: a
    /// group of messages wakes each listening process once, not once a message.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aTransactionsAppendsNotifyFollowersOnce() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let listener = try await PostgresConnector.connect(settings, logger: logger)
            let writer = try await PostgresConnector.connect(settings, logger: logger)
            defer {
                Task { [listener, writer] in
                    try? await listener.close()
                    try? await writer.close()
                }
            }
            let payload = try await listener.listen(on: PostgresSchema.eventChannel) { notifications in
                // Listening from here on: three tickets opened in one transaction notify.
                let (contact, identity) = try await Self.customer(writer)
                try await writer.query("BEGIN", logger: logger)
                for _ in 1...3 { _ = try await Self.openTicket(writer, contact: contact, identity: identity) }
                try await writer.query("COMMIT", logger: logger)
                // Notifications arrive in commit order: this marker comes after the tickets', so the
                // wait ends either way (no timeout), and a missing notification shows as "end".
                try await writer.query("NOTIFY \(unescaped: PostgresSchema.eventChannel), 'end'", logger: logger)
                var payloads: [String] = []
                for try await notification in notifications {
                    payloads.append(notification.payload)
                    if notification.payload == "end" { break }
                }
                return payloads
            }
            #expect(payload == ["", "end"])
            #expect(try await writer.value("SELECT count(*) FROM events WHERE type = 'ticket_opened'", as: Int64.self) == 3)
        }
    }

    /// What shows beside a contact's tickets (tags, custom fields, e-mail: SQLite v24) logs
    /// `ticket_updated` for each of its tickets that is not closed, as on SQLite.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func contactChangesAreLoggedForItsOpenTickets() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let db = try await PostgresConnector.connect(settings, logger: logger)
            defer { Task { [db] in try? await db.close() } }
            let (contact, identity) = try await Self.customer(db)
            let closed = try await Self.openTicket(db, contact: contact, identity: identity)
            let open = try await Self.openTicket(db, contact: contact, identity: identity)
            try await db.query("UPDATE tickets SET status = 'closed' WHERE id = \(closed)", logger: logger)
            let field = try await db.value(
                "INSERT INTO custom_fields (scope, key, label, type, created_at) VALUES ('contact', 'tier', 'Tier', 'text', 1) RETURNING id", as: Int64.self)
            let changes = [
                "INSERT INTO contact_tags (contact_id, tag) VALUES (\(contact), 'vip')",
                "DELETE FROM contact_tags WHERE contact_id = \(contact)",
                "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (\(contact), \(field), 'gold')",
                "UPDATE contact_fields SET value = 'silver' WHERE contact_id = \(contact)",
                "DELETE FROM contact_fields WHERE contact_id = \(contact)",
                "UPDATE contacts SET email = 'kim@example.com' WHERE id = \(contact)",
            ]
            for change in changes {
                let head = try await db.value("SELECT seq FROM event_seq", as: Int64.self)
                try await db.query(PostgresQuery(unsafeSQL: change), logger: logger)
                let logged = try await db.values("SELECT type || ' ' || ticket_id FROM events WHERE seq > \(head) ORDER BY seq", as: String.self)
                #expect(logged == ["ticket_updated \(open)"], "\(change)")
            }
        }
    }

    static func customer(_ db: PostgresConnection) async throws -> (contact: Int64, identity: Int64) {
        let contact = try await db.value("INSERT INTO contacts (display_name, created_at, updated_at) VALUES (NULL, 1, 1) RETURNING id", as: Int64.self)
        let identity = try await db.value(
            "INSERT INTO identities (contact_id, account, channel, platform_user_id, created_at) VALUES (\(contact), 'line/jp', 'line', 'U1', 1) RETURNING id",
            as: Int64.self)
        return (contact, identity)
    }

    /// Inserts a ticket (its trigger appends `ticket_opened`) and returns its id.
    static func openTicket(_ db: PostgresConnection, contact: Int64, identity: Int64) async throws -> Int64 {
        try await db.value(
            "INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(contact), 'new', \(identity), 1, 1) RETURNING id",
            as: Int64.self)
    }

}

/// Set once, read from another task.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
