import Foundation
import GRDB
import Testing

@testable import UniversalInbox

/// What the ingest writer does for every customer message: the two look-ups read their answer in an
/// index's order instead of sorting (v39), and a message's key is a version-4 UUID never repeated.
@Suite struct IngestLookupsTests {
    @Test(arguments: [
        (IngestWriter.currentTicketSQL, "SEARCH tickets USING INDEX tickets_contact_current (contact_id=?)"),
        (IngestWriter.pendingRatingSQL, "SEARCH r USING INDEX ratings_pending (contact_id=?)"),
    ])
    func aCustomerMessagesLookUpReadsAnIndexInOrder(_ sql: String, _ search: String) throws {
        let plan = try queryPlan(sql)
        #expect(plan.contains(search), "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    /// What the index order answers: the newest ticket that is not closed, and the newest pending
    /// rating request (the higher ticket of two asked at the same moment).
    @Test func theLookUpsAnswerTheNewest() throws {
        let queue = try migratedQueue()
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Ana', 0, 0);
                INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 0);
                INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES
                    (1, 1, 'resolved', 1, 0, 0), (2, 1, 'open', 1, 0, 0), (3, 1, 'pending', 1, 0, 0), (4, 1, 'closed', 1, 0, 0),
                    (5, 1, 'closed', 1, 0, 0), (6, 1, 'closed', 1, 0, 0);
                INSERT INTO ratings (ticket_id, contact_id, requested_at, state, choices) VALUES
                    (1, 1, 10, 'requested', '[]'), (5, 1, 20, 'requested', '[]'), (6, 1, 20, 'requested', '[]');
                """)
        }
        let (ticket, rating) = try queue.read { db in
            (try Int64.fetchOne(db, sql: IngestWriter.currentTicketSQL, arguments: [1]), try Int64.fetchOne(db, sql: IngestWriter.pendingRatingSQL, arguments: [1]))
        }
        #expect(ticket == 3)
        #expect(rating == 6)
    }

    @Test func messageKeysAreVersion4UUIDsNeverRepeated() {
        // 2,000 keys: many refills of the 16-key block.
        let keys = (0..<2_000).map { _ in MessageKey.random() }
        #expect(Set(keys).count == keys.count)
        for key in keys {
            let uuid = UUID(uuidString: key)
            #expect(uuid?.uuidString == key)
            let bytes = withUnsafeBytes(of: uuid?.uuid) { Array($0.prefix(16)) }
            #expect(bytes[6] >> 4 == 4 && bytes[8] >> 6 == 2, "\(key)")
        }
    }
}
