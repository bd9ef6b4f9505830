import Foundation
import GRDB
import Testing

@testable import UniversalInbox

/// v41: the website widget finds its visitor's messages in `messages_visitor` (by identity, then
/// id), not by walking `messages`; and only website chat messages have an entry in it.
@Suite struct VisitorMessagesIndexTests {
    /// The chat's ticket and a conversation load: one step, and a range read in order, in the
    /// visitor's index.
    @Test(arguments: [SQLiteTicketQueryStore.visitorTicketSQL, SQLiteTicketQueryStore.visitorMessagesSQL("id > ? ORDER BY id LIMIT ?")])
    func theWidgetsReadsSearchTheVisitorsIndex(_ sql: String) throws {
        let plan = try queryPlan(sql)
        #expect(plan.contains { $0.hasPrefix("SEARCH messages USING") && $0.contains("INDEX messages_visitor (identity_id=?") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN messages") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    /// Messages named by id (what the shared log window found) are looked up by id.
    @Test func namedMessagesAreLookedUpById() throws {
        let plan = try queryPlan(SQLiteTicketQueryStore.visitorMessagesSQL("id IN (?,?) ORDER BY id"))
        #expect(plan.contains { $0.hasPrefix("SEARCH messages USING") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN messages") }, "\(plan)")
    }

    /// A LINE message has no entry; a website chat message has one; the widget's reads answer the
    /// visitor's own messages, newest ticket first.
    @Test func onlyWebsiteChatMessagesAreIndexed() throws {
        let queue = try migratedQueue()
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Ana', 0, 0), (2, 'Ben', 0, 0);
                INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES
                    (1, 1, 'line/main', 'line', 'U1', 0), (2, 1, 'webchat/site', 'webchat', 'v1', 0), (3, 2, 'webchat/site', 'webchat', 'v2', 0);
                INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES
                    (1, 1, 'open', 1, 0, 0), (2, 1, 'open', 2, 0, 0), (3, 2, 'open', 3, 0, 0), (4, 1, 'open', 2, 0, 0);
                INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at) VALUES
                    (1, 1, 1, 'in', 'line', 'line/main', '{}', 'a', 'received', 'k1', 0, 0),
                    (2, 2, 2, 'in', 'webchat', 'webchat/site', '{}', 'b', 'received', 'k2', 0, 0),
                    (3, 3, 3, 'in', 'webchat', 'webchat/site', '{}', 'c', 'received', 'k3', 0, 0),
                    (4, 4, 2, 'out', 'webchat', 'webchat/site', '{}', 'd', 'sent', 'k4', 0, 0),
                    (5, 1, 1, 'in', 'line', 'line/main', '{}', 'e', 'received', 'k5', 0, 0);
                """)
        }
        try queue.read { db in
            let indexed = try Int64.fetchAll(db, sql: "SELECT id FROM messages INDEXED BY messages_visitor WHERE channel = 'webchat' ORDER BY id")
            #expect(indexed == [2, 3, 4])
            #expect(try Int64.fetchOne(db, sql: SQLiteTicketQueryStore.visitorTicketSQL, arguments: ["webchat/site", "v1"]) == 4)
            #expect(try Int64.fetchOne(db, sql: SQLiteTicketQueryStore.visitorTicketSQL, arguments: ["webchat/site", "v3"]) == nil)
            let all = try Int64.fetchAll(
                db, sql: SQLiteTicketQueryStore.visitorMessagesSQL("id > ? ORDER BY id LIMIT ?").replacingOccurrences(of: "SELECT *", with: "SELECT id"),
                arguments: ["webchat/site", "v1", 0, 50])
            #expect(all == [2, 4])
        }
    }
}
