@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// `GET /api/v1/tickets/{id}/messages?before=&limit=`: long conversations page by page, newest
/// page first; without the parameters the whole conversation, as before.
@Suite struct MessagePagesTests {
    @Test func pagesGoBackInConversationOrderAndAddUpToTheWhole() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 600_000
            var ticket: Int64 = 0
            // Seven messages; the fourth and fifth at the same millisecond (ordered by id).
            for (n, offset) in [0, 1, 2, 3, 3, 5, 6].enumerated() {
                let eventId = "01PAGE\(n)" + String(repeating: "0", count: 18)
                _ = try await t.postLINE(Payloads.lineText(eventId, "m\(n + 1)", at: start + Int64(offset) * 1000))
                ticket = try #require(try await api.ticketIds("contact=\(Payloads.lineUser)").first)
            }
            // Without parameters, today's answer: exactly `items`, nothing beside it.
            #expect(try await api.raw(.GET, "/api/v1/tickets/\(ticket)/messages").json.keys.sorted() == ["items"], "no params: today's answer")
            let whole = try await api.messages(ticket)
            #expect(whole.map(\.text) == (1...7).map { "m\($0)" })

            var pages: [[String]] = []
            var before: Int64?
            repeat {
                let page = try await api.messagePage(ticket, before: before, limit: 3)
                pages.append(page.items.map(\.text))
                before = page.nextBefore
                if let before { #expect(before == page.items.first?.id) }
            } while before != nil && pages.count < 10
            #expect(pages == [["m5", "m6", "m7"], ["m2", "m3", "m4"], ["m1"]])
            // `before` alone takes 50.
            let lastId = try #require(whole.last?.id)
            let rest = try await api.messagePage(ticket, before: lastId)
            #expect(rest.items.map(\.text) == (1...6).map { "m\($0)" })
            #expect(rest.nextBefore == nil)

            // Bad paging is refused.
            let other = try await t.customerWrites("U00000000000000000000000000000077", "someone else")
            let foreign = try #require(try await api.messages(other).first?.id)
            #expect(try await api.failure(of: await api.messagePage(ticket, before: foreign)).code == "invalid_before")
            #expect(try await api.failure(of: await api.messagePage(ticket, limit: 0)).status == 400)
            #expect(try await api.failure(of: await api.messagePage(ticket, limit: 201)).status == 400)
            #expect(try await api.raw(.GET, "/api/v1/tickets/\(ticket)/messages?before=x").status == 400)  // not a number
            #expect(try await api.failure(of: await api.messagePage(999999, limit: 5)).status == 404)
        }
    }
}
