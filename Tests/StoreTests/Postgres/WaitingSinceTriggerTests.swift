import Foundation
import PostgresNIO
import PostgresStore
import Testing

/// `tickets.waiting_since` on PostgreSQL (migrations 6 and 10) keeps what its definition,
/// `waiting_since(ticket)`, computes from the messages: through customer messages in order and
/// delivered late, agents' replies, and automatic ones (which do not end a wait).
@Suite struct WaitingSinceTriggerTests {
    let logger = TestServer.logger

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func theKeptValueFollowsItsDefinition() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                let (contact, identity) = try await EventLogOrderTests.customer(db)
                let ticket = try await EventLogOrderTests.openTicket(db, contact: contact, identity: identity)
                // (direction, author, created_at, the wait's start expected after it)
                let steps: [(String, String?, Int64, Int64?)] = [
                    ("in", nil, 1_000, 1_000),
                    ("in", nil, 2_000, 1_000),  // still waiting since the first
                    ("in", nil, 500, 500),  // delivered late: the wait began earlier
                    ("out", "system", 2_500, 500),  // an automatic reply ends nothing
                    ("out", "Ann", 3_000, nil),  // an agent answered
                    ("in", nil, 2_800, nil),  // late, from before the answer: not waiting
                    ("in", nil, 4_000, 4_000),
                    ("in", nil, 3_500, 3_500),  // late but after the answer: the wait began then
                ]
                for (n, (direction, author, at, expected)) in steps.enumerated() {
                    try await db.query("""
                        INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, author, created_at, updated_at)
                        VALUES (\(ticket), \(identity), \(direction), 'line', 'line/jp', '{}', 'x', 'received', \("k\(n)"), \(author), \(at), \(at))
                        """, logger: logger)
                    let kept = try await db.value("SELECT waiting_since FROM tickets WHERE id = \(ticket)", as: Int64?.self)
                    let defined = try await db.value("SELECT waiting_since(\(ticket))", as: Int64?.self)
                    #expect(kept == expected, "step \(n)")
                    #expect(kept == defined, "step \(n)")
                }
            }
        }
    }
}
