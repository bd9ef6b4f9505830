import ChannelKit
import Foundation
import TestSupport
import Testing
import UniversalInbox

@Suite struct SearchLimitsTests {
    /// 300 messages over 30 tickets, none containing "zz" or "qqq": a search for them reads everything.
    func seeded(_ clock: SearchClock) async throws -> Inbox {
        let inbox = try makeInbox(searchLimits: clock.limits)
        for n in 0..<300 {
            _ = try await inbox.ingest([textEvent("e\(n)", from: "U\(n % 30)", name: "C\(n % 30)", text: "where is my order number \(n)")], from: lineMain)
        }
        return inbox
    }

    @Test func queriesOverTheLimitsAreRefusedBeforeAnythingRuns() async throws {
        let clock = SearchClock()
        let inbox = try makeInbox(searchLimits: clock.limits)
        let refusals: [(TicketQuery, String)] = [
            (TicketQuery(text: String(repeating: "a", count: 201)), "q_too_long"),
            (TicketQuery(text: "a" + String(repeating: "\u{301}", count: 200)), "q_too_long"),  // one Character, 201 scalars
            (TicketQuery(text: (1...11).map { "word\($0)" }.joined(separator: " ")), "too_many_terms"),
            (TicketQuery(contact: String(repeating: "b", count: 201)), "contact_too_long"),
            (TicketQuery(text: "\0ab"), "invalid_q"),
        ]
        for (query, code) in refusals {
            await #expect {
                _ = try await inbox.listTickets(query)
            } throws: { error in
                switch error as? InboxError {
                case .invalid(code, let message)?: return message.contains("200") || code == "invalid_q"
                case .unprocessable(code, let message)?: return message.contains("10")  // too many words: a rule in words, 422
                default: return false
                }
            }
        }
        #expect(clock.readings == 0, "no search started")
        // At the limits, it runs.
        _ = try await inbox.listTickets(TicketQuery(text: String(repeating: "a", count: 200)))
        _ = try await inbox.listTickets(TicketQuery(text: (1...10).map { "word\($0)" }.joined(separator: " ")))
        #expect(clock.readings > 0)
    }

    @Test func aSearchPastItsDeadlineIsStoppedAndTheNextOneRuns() async throws {
        let clock = SearchClock()
        let inbox = try await seeded(clock)
        clock.set(.expensive)
        // A two-letter word is a scan in one SQL statement: the progress handler stops it from inside.
        await #expect(throws: SearchTooCostly.self) { _ = try await inbox.listTickets(TicketQuery(text: "zz")) }
        // Three letters go through the index and the search's own loop, which looks at the clock per message.
        _ = try await inbox.indexNewMessages()
        await #expect(throws: SearchTooCostly.self) { _ = try await inbox.listTickets(TicketQuery(text: "order")) }
        clock.set(.normal)
        #expect(try await inbox.listTickets(TicketQuery(text: "zz")).items.isEmpty)
        #expect(try await inbox.listTickets(TicketQuery(text: "order")).items.count == 30)
    }

    @Test func aCancelledSearchStopsInsideSQLite() async throws {
        let clock = SearchClock()
        let inbox = try await seeded(clock)
        clock.set(.stall)
        let search = Task { try await inbox.listTickets(TicketQuery(text: "zz")) }
        try await clock.waitUntilStalled()  // the scan is running, inside its SQL statement
        search.cancel()
        // The read returns only once its block has: the statement was interrupted, not run to its end.
        await #expect(throws: CancellationError.self) { _ = try await search.value }
        clock.set(.normal)
        #expect(try await inbox.listTickets(TicketQuery(text: "order")).items.count == 30)
    }
}
