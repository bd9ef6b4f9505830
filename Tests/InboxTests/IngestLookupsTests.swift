import Foundation
import GRDB
import Testing

@testable import UniversalInbox

/// What the ingest writer does for every customer message is cheap: the two look-ups read their
/// answer in an index's order instead of sorting (v39), and a message's key is made without a system
/// call and `sprintf` each time.
@Suite struct IngestLookupsTests {
    @Test(arguments: [IngestWriter.currentTicketSQL, IngestWriter.pendingRatingSQL])
    func aCustomerMessagesLookUpSortsNothing(_ sql: String) throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue)
        let plan = try queue.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: [1]).map { $0["detail"] as String } }
        #expect(!plan.isEmpty)
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    @Test func messageKeysAreVersion4UUIDsNeverRepeated() {
        // 2,000 keys: several refills of the 256-key block.
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
