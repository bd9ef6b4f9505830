import Foundation
import GRDB
import Testing

@testable import UniversalInbox

/// v38 drops the addresses the widget's offline form used to put on visitors' contacts unconfirmed
/// (mail from an address joins the contact that has it), and keeps every other contact's.
@Suite struct UnconfirmedAddressesMigrationTests {
    @Test func visitorOnlyContactsLoseTheirAddressOthersKeepIt() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v37-ticket-subjects")
        try queue.write { db in
            for (id, email, channels) in [(1, "typed@example.com", ["webchat"]), (2, "ana@example.com", ["line", "webchat"]), (3, "kai@example.com", ["email"])] {
                try db.execute(sql: "INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (?, 'x', ?, 0, 0)", arguments: [id, email])
                for (n, channel) in channels.enumerated() {
                    try db.execute(
                        sql: "INSERT INTO identities (contact_id, account, channel, platform_user_id, created_at) VALUES (?, ?, ?, ?, 0)",
                        arguments: [id, "\(channel)/main", channel, "u\(id)-\(n)"])
                }
            }
        }
        try AppDatabase.migrator.migrate(queue)
        let emails = try queue.read { db in try Row.fetchAll(db, sql: "SELECT id, email FROM contacts ORDER BY id").map { $0["email"] as String? } }
        #expect(emails == [nil, "ana@example.com", "kai@example.com"])
    }
}
