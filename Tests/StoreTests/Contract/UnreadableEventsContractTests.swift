import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// `IngestStore.unreadableEvents` as every implementation must keep it: the kept events, newest
/// first, a page at a time (`before` an id).
@Suite struct UnreadableEventsContractTests {
    @Test(arguments: StoreKind.available)
    func keptEventsAreReadNewestFirstAPageAtATime(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            try await stores.sql.execute("""
                INSERT INTO unreadable_events (id, account, reason, raw, digest, received_at)
                VALUES (1, 'line/main', 'odd', 'r1', 'd1', 1000), (2, 'whatsapp/main', 'bad', 'r2', 'd2', 2000), (3, 'line/main', 'odd', 'r3', 'd3', 3000)
                """)
            let all = try await stores.ingestStore.unreadableEvents(limit: 10, before: nil)
            #expect(all == [
                UnreadableEventRecord(id: 3, account: "line/main", reason: "odd", raw: "r3", receivedAt: Date(ms: 3000)),
                UnreadableEventRecord(id: 2, account: "whatsapp/main", reason: "bad", raw: "r2", receivedAt: Date(ms: 2000)),
                UnreadableEventRecord(id: 1, account: "line/main", reason: "odd", raw: "r1", receivedAt: Date(ms: 1000)),
            ])
            #expect(try await stores.ingestStore.unreadableEvents(limit: 2, before: nil).map(\.id) == [3, 2])
            #expect(try await stores.ingestStore.unreadableEvents(limit: 2, before: 2).map(\.id) == [1])
            #expect(try await stores.ingestStore.unreadableEvents(limit: 2, before: 1).isEmpty)
        }
    }
}
