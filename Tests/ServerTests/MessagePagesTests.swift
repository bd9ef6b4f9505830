@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// `GET /api/v1/tickets/{id}/messages?before=&limit=`: long conversations page by page, newest
/// page first; without the parameters the whole conversation, as before.
@Suite struct MessagePagesTests {
    @Test func pagesGoBackInConversationOrderAndAddUpToTheWhole() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 600_000
            var ticket = 0
            // Seven messages; the fourth and fifth at the same millisecond (ordered by id).
            for (n, offset) in [0, 1, 2, 3, 3, 5, 6].enumerated() {
                let eventId = "01PAGE\(n)" + String(repeating: "0", count: 18)
                _ = try await t.postLINE(Payloads.lineText(eventId, "m\(n + 1)", at: start + Int64(offset) * 1000))
                ticket = try #require(try await t.get("/api/v1/tickets?contact=\(Payloads.lineUser)").items.first?["id"] as? Int)
            }
            let whole = try await t.get("/api/v1/tickets/\(ticket)/messages")
            #expect(whole.json.keys.sorted() == ["items"], "no params: today's answer")
            let texts = whole.items.compactMap { $0["text"] as? String }
            #expect(texts == (1...7).map { "m\($0)" })

            var pages: [[String]] = []
            var before: Int?
            repeat {
                let page = try await t.get("/api/v1/tickets/\(ticket)/messages?limit=3" + (before.map { "&before=\($0)" } ?? ""))
                #expect(page.status == 200)
                pages.append(page.items.compactMap { $0["text"] as? String })
                before = page.json["nextBefore"] as? Int
                if let before { #expect(before == page.items.first?["id"] as? Int) }
            } while before != nil && pages.count < 10
            #expect(pages == [["m5", "m6", "m7"], ["m2", "m3", "m4"], ["m1"]])
            // `before` alone takes 50.
            let lastId = try #require(whole.items.last?["id"] as? Int)
            let rest = try await t.get("/api/v1/tickets/\(ticket)/messages?before=\(lastId)")
            #expect(rest.items.compactMap { $0["text"] as? String } == (1...6).map { "m\($0)" })
            #expect(rest.json["nextBefore"] == nil)

            // Bad paging is refused.
            let other = try await t.customerWrites("U00000000000000000000000000000077", "someone else")
            let foreign = try #require(try await t.messages(ticket: other).first?["id"] as? Int)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/messages?before=\(foreign)").errorCode == "invalid_before")
            #expect(try await t.get("/api/v1/tickets/\(ticket)/messages?limit=0").status == 400)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/messages?limit=201").status == 400)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/messages?before=x").status == 400)
            #expect(try await t.get("/api/v1/tickets/999999/messages?limit=5").status == 404)
        }
    }
}
