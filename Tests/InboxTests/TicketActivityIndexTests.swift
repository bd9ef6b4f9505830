import Foundation
import GRDB
import Testing

@testable import UniversalInbox

/// v40: the lists that read the ticket indexes without `updated_at` for waiting tickets, or only
/// for tickets with a department, still read them in order. The SQL has the shape
/// `SQLiteTicketQueryStore` builds for each list (`longestWaiting`, `newest` with a department).
@Suite struct TicketActivityIndexTests {
    static let list = "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE "

    @Test(arguments: [
        ("t.waiting_since IS NOT NULL ORDER BY t.waiting_since, t.id LIMIT 51", "t USING INDEX tickets_waiting"),
        ("t.waiting_since IS NOT NULL AND (t.waiting_since, t.id) > (?, ?) ORDER BY t.waiting_since, t.id LIMIT 51", "t USING INDEX tickets_waiting"),
        ("t.waiting_since IS NULL ORDER BY t.updated_at DESC, t.id DESC LIMIT 51", "SCAN t USING INDEX tickets_answered"),
        ("t.department_id = ? ORDER BY t.updated_at DESC, t.id DESC LIMIT 51", "SEARCH t USING INDEX tickets_department (department_id=?)"),
    ])
    func aListReadsItsIndexInOrder(_ condition: String, _ step: String) throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue)
        let plan = try queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Self.list + condition, arguments: StatementArguments(Array(repeating: 1, count: condition.filter { $0 == "?" }.count))).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains(step) }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    /// The waiting tickets come oldest wait first and, for the same wait, by id; the answered ones
    /// newest activity first, departments' lists only with their own tickets.
    @Test func theIndexesHoldWhatTheListsAsk() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue)
        let (waiting, answered, department) = try queue.write { db in
            try db.execute(sql: """
                INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Ana', 0, 0);
                INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 0);
                INSERT INTO departments (id, name, created_at) VALUES (2, 'Billing', 0);
                INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at, waiting_since, department_id) VALUES
                    (1, 1, 'open', 1, 0, 50, 10, NULL), (2, 1, 'open', 1, 0, 40, 10, 2), (3, 1, 'open', 1, 0, 90, 5, NULL),
                    (4, 1, 'open', 1, 0, 70, NULL, 2), (5, 1, 'open', 1, 0, 80, NULL, NULL);
                UPDATE tickets SET updated_at = 99 WHERE id = 1;
                """)
            return (
                try Int64.fetchAll(db, sql: "SELECT t.id FROM tickets t WHERE t.waiting_since IS NOT NULL ORDER BY t.waiting_since, t.id"),
                try Int64.fetchAll(db, sql: "SELECT t.id FROM tickets t WHERE t.waiting_since IS NULL ORDER BY t.updated_at DESC, t.id DESC"),
                try Int64.fetchAll(db, sql: "SELECT t.id FROM tickets t WHERE t.department_id = 2 ORDER BY t.updated_at DESC, t.id DESC"))
        }
        #expect(waiting == [3, 1, 2])
        #expect(answered == [5, 4])
        #expect(department == [4, 2])
    }
}
