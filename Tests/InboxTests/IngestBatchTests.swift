import ChannelKit
import Foundation
import GRDB
import TestSupport
import Testing
@testable import UniversalInbox

/// A group-commit batch is one transaction without savepoints; when it fails, it goes again with
/// each webhook in its own savepoint, so one webhook that cannot be stored fails alone.
@Suite struct IngestBatchTests {
    @Test func aWebhookThatCannotBeStoredFailsAloneAndLeavesNothing() async throws {
        let inbox = try makeInbox()
        try await inbox.database.pool.write { db in
            try db.execute(sql: "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END")
        }
        let batch = ["first", "poison", "third"].enumerated().map { i, text in
            WebhookEvents(account: lineMain, events: [textEvent("b\(i)", from: "U\(i)", text: text)])
        }
        let results = await SQLiteIngestStore(database: try inbox.database).file(batch, now: Date(ms: 1_700_000_000_000))
        #expect(results.map { (try? $0.get())?.stored } == [1, nil, 1])
        // SQLite's own error, as GRDB would have thrown it.
        guard case .failure(let error) = results[1] else { Issue.record("the poisoned webhook was stored"); return }
        #expect((error as? DatabaseError)?.message == "poisoned")
        #expect((error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT)
        let (texts, seen, customers) = try await inbox.database.pool.read { db in
            (
                try String.fetchAll(db, sql: "SELECT text FROM messages ORDER BY id"),
                try String.fetchAll(db, sql: "SELECT event_id FROM processed_events ORDER BY event_id"),
                try String.fetchAll(db, sql: "SELECT platform_user_id FROM identities ORDER BY platform_user_id")
            )
        }
        #expect(texts == ["first", "third"])
        // Not even its dedupe row is kept: the platform's redelivery is stored once the cause is gone.
        #expect(seen == ["b0", "b2"])
        #expect(customers == ["U0", "U2"])
        try await inbox.database.pool.write { db in try db.execute(sql: "DROP TRIGGER poison") }
        #expect(try await inbox.ingest(batch[1].events, from: lineMain).stored == 1)
    }
}
