import ChannelKit
import Foundation
import GRDB
import Testing
import UniversalInbox

/// Unreadable events are kept, but never without bound: a platform (or a customer who can make it
/// send new shapes) cannot grow the store past the newest 10,000 per account, 64 KiB each.
@Suite struct UnreadableEventsTests {
    @Test func theStoreKeepsTheNewestAndCutsLongTexts() async throws {
        let inbox = try makeInbox()
        let many = (0..<10_050).map { UnreadableEvent(reason: "missing field from", raw: #"{"n":\#($0)}"#) }
        let result = try await inbox.ingest([], unreadable: many, from: lineMain)
        #expect(result.unreadable == 10_050)
        let count = try await inbox.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM unreadable_events") }
        #expect(count == 10_000)
        #expect(try await inbox.unreadableEvents(limit: 1).first?.raw == #"{"n":10049}"#)
        // The same events again add nothing; a huge one is kept cut.
        #expect(try await inbox.ingest([], unreadable: Array(many.suffix(10)), from: lineMain).unreadable == 0)
        let huge = UnreadableEvent(reason: String(repeating: "r", count: 2_000), raw: String(repeating: "x", count: 200_000))
        _ = try await inbox.ingest([], unreadable: [huge], from: lineMain)
        let kept = try #require(try await inbox.unreadableEvents(limit: 1).first)
        #expect(kept.raw.utf8.count <= 64 * 1024 + 3)
        #expect(kept.reason.count == 500)
    }
}
