@testable import BridgeServer
import ChannelKit
import Foundation
import TestSupport
import Testing
import UniversalInbox

/// Issue 13, point 9: a search's words are bounded, it runs under a deadline, and it stops when
/// the client leaves.
@Suite struct SearchLimitAPITests {
    /// Over-long is 400 (the document's `maxLength`), too many words 422 (a rule in its words).
    @Test func overLongQueriesAndTooManyWordsAreRefusedAndNothingRuns() async throws {
        let clock = SearchClock()
        try await TestBridge.with(configure: { $0.search = clock.limits }) { t in
            let long = String(repeating: "a", count: 201)
            let tooLong = try await t.get("/api/v1/tickets?q=\(long)")
            #expect(tooLong.status == 400)
            #expect(tooLong.errorCode == "q_too_long")
            #expect(tooLong.errorMessage == "q has 201 characters; at most 200 are allowed")
            let tooMany = try await t.get("/api/v1/tickets?q=" + (1...11).map { "word\($0)" }.joined(separator: "%20"))
            #expect(tooMany.status == 422)
            #expect(tooMany.errorCode == "too_many_terms")
            #expect(tooMany.errorMessage == "q has 11 words; at most 10 are allowed")
            #expect(try await t.get("/api/v1/tickets/export.csv?q=\(long)").errorCode == "q_too_long")
            #expect(try await t.get("/api/v1/tickets?contact=\(long)").errorCode == "contact_too_long")
            // A saved view that could never run is refused when it is given (422: the filter is a string to the document).
            let view = try await t.postJSON("/api/v1/views", #"{"name":"long","filter":"q=\#(long)","shared":true}"#)
            #expect(view.status == 422)
            #expect(view.errorCode == "q_too_long")
            #expect(clock.readings == 0, "no search ran")
        }
    }

    @Test func aSearchPastItsDeadlineIsStoppedWith503() async throws {
        let clock = SearchClock()
        try await TestBridge.with(standIns: [.line], configure: { $0.search = clock.limits }) { t in
            _ = try await t.customerWrites(Payloads.lineUser, "where is my order")
            clock.set(.expensive)
            let stopped = try await t.get("/api/v1/tickets?q=order")
            #expect(stopped.status == 503)
            #expect(stopped.errorCode == "search_too_costly")
            #expect(try await t.get("/api/v1/tickets/export.csv?q=order").errorCode == "search_too_costly")
            #expect(t.bridge.parts.metrics.render().contains(#"bridge_searches_stopped_total{reason="too_costly"} 2"#))
            clock.set(.normal)
            #expect(try await t.get("/api/v1/tickets?q=order").items.count == 1)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, "a SQLite scan stops at once when its client leaves; on PostgreSQL a search ends at its statement_timeout")) func aSearchStopsWhenTheClientLeaves() async throws {
        let clock = SearchClock()
        try await TestBridge.with(configure: { $0.search = clock.limits }) { t in
            // 300 messages, none with "zz": a scan for it reads them all in one SQL statement.
            let events = (0..<300).map { n in
                InboundEvent(
                    kind: .message, eventId: "scan-\(n)", occurredAt: Date(), sender: Sender(id: "U\(n % 30)", displayName: "C\(n % 30)"),
                    message: InboundMessage(id: "m-scan-\(n)", content: .text("where is my order number \(n)")))
            }
            _ = try await t.bridge.inbox.ingest(events, from: ChannelAccountRef(kind: .line, id: "main"))
            clock.set(.stall)
            try await RawConnection.with(port: t.bridge.port) { connection in
                try await connection.send("GET /api/v1/tickets?q=zz HTTP/1.1\r\nHost: bridge\r\nAuthorization: Bearer \(TestBridge.adminToken)\r\n\r\n")
                try await clock.waitUntilStalled()
            }  // The client leaves without waiting for the answer.
            try await t.eventually("the search stopped for the client that left") {
                t.bridge.parts.metrics.render().contains(#"bridge_searches_stopped_total{reason="client_left"} 1"#)
            }
            clock.set(.normal)
            #expect(try await t.get("/api/v1/tickets?q=order").items.count == 30)
        }
    }
}
