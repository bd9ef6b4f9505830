@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// `GET /api/v1/tickets?sort=waiting`: oldest unanswered customer message first, paged by cursor,
/// with `waitingSince` kept as messages are added, answered and moved.
@Suite struct LongestWaitingTests {
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    static let hour: Int64 = 3_600_000

    /// A LINE customer `user` writes at `ms`; returns their ticket.
    func writes(_ t: TestBridge, _ user: String, _ text: String, at ms: Int64) async throws -> Int {
        let eventId = "01" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24)
        #expect(try await t.postLINE(Payloads.lineText(String(eventId), text, at: ms, user: user)).status == 200)
        return try #require(try await t.get("/api/v1/tickets?contact=\(user)").items.first?["id"] as? Int)
    }

    func user(_ n: Int) -> String { "U" + String(repeating: "0", count: 30) + String(format: "%02d", n) }

    func waiting(_ t: TestBridge, limit: Int = 200, extra: String = "") async throws -> (ids: [Int], pages: Int) {
        var ids: [Int] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await t.get("/api/v1/tickets?sort=waiting&limit=\(limit)\(extra)" + (cursor.map { "&cursor=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! } ?? ""))
            #expect(page.status == 200, "\(page.text)")
            ids += page.items.compactMap { $0["id"] as? Int }
            cursor = page.json["nextCursor"] as? String
            pages += 1
        } while cursor != nil && pages < 20
        return (ids, pages)
    }

    /// The date is the time `ms` (to the millisecond the JSON dates keep, parsed as a Double).
    static func close(_ date: Date?, _ ms: Int64) -> Bool {
        guard let date else { return false }
        return abs(date.timeIntervalSince1970 * 1000 - Double(ms)) <= 1
    }

    func waitingSince(_ t: TestBridge, _ ticket: Int) async throws -> String? {
        try await t.get("/api/v1/tickets/\(ticket)").json["waitingSince"] as? String
    }

    @Test func oldestUnansweredFirstThenTheAnsweredPageByPage() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let a = try await writes(t, user(1), "A", at: now - 3 * Self.hour)
            let b = try await writes(t, user(2), "B", at: now - 2 * Self.hour)
            let c = try await writes(t, user(3), "C", at: now - 1 * Self.hour)
            let d = try await writes(t, user(4), "D", at: now - 4 * Self.hour)
            let e = try await writes(t, user(5), "E", at: now - 5 * Self.hour)
            // D is answered by an agent; E only got the bridge's automatic reply, which answers nobody.
            #expect(try await t.postJSON("/api/v1/tickets/\(d)/messages", #"{"text":"Hello D"}"#).status == 202)
            _ = try await t.bridge.inbox.queueReply(ticketId: Int64(e), content: .text("We will be with you shortly"), author: "system") { _ in nil }
            // A writes again: still waiting since the first message.
            _ = try await writes(t, user(1), "A again", at: now - 30 * 60_000)

            #expect(try await waitingSince(t, d) == nil)
            #expect(try await waitingSince(t, e) != nil)
            let aSince = try #require(try await waitingSince(t, a))
            #expect(aSince == (try await waitingSince(t, a)))
            #expect(Self.close(RFC3339.dateTime(aSince), now - 3 * Self.hour))

            let all = try await waiting(t)
            #expect(all.ids == [e, a, b, c, d])
            // Page by page, the same order, nothing twice or lost.
            let paged = try await waiting(t, limit: 2)
            #expect(paged.ids == [e, a, b, c, d])
            #expect(paged.pages == 3)
            #expect(try await waiting(t, limit: 4).ids == [e, a, b, c, d])
            // With a filter (E and D are open now: a reply opens a new ticket).
            #expect(try await waiting(t, limit: 1, extra: "&status=new").ids == [a, b, c])
            // The default stays newest activity first.
            #expect(try await t.get("/api/v1/tickets").items.first?["id"] as? Int == a)

            // Answering A moves it to the answered part; a customer message after the answer waits again.
            #expect(try await t.postJSON("/api/v1/tickets/\(a)/messages", #"{"text":"Hello A"}"#).status == 202)
            #expect(try await waitingSince(t, a) == nil)
            #expect(try await waiting(t, limit: 2).ids == [e, b, c, a, d])
            _ = try await writes(t, user(4), "D again", at: now + 60_000)
            #expect(try await waiting(t).ids == [e, b, c, d, a])
        }
    }

    @Test func movingMessagesMovesTheWait() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await writes(t, user(1), "first", at: now - 2 * Self.hour)
            _ = try await writes(t, user(1), "second", at: now - 1 * Self.hour)
            let messages = try await t.messages(ticket: ticket)
            let first = try #require(messages.first?["id"] as? Int)
            let split = try #require(try await t.postJSON("/api/v1/tickets/\(ticket)/split", #"{"messageIds":[\#(first)]}"#).json["id"] as? Int)
            let since = { (id: Int) in try await waitingSince(t, id).flatMap(RFC3339.dateTime) }
            #expect(Self.close(try await since(ticket), now - 1 * Self.hour))
            #expect(Self.close(try await since(split), now - 2 * Self.hour))
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/merge", #"{"ticketIds":[\#(split)]}"#).status == 200)
            #expect(Self.close(try await since(ticket), now - 2 * Self.hour))
            #expect(try await since(split) == nil)
        }
    }

    @Test func badSortsAndCursorsAreRefused() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await writes(t, user(1), "hello", at: now)
            _ = try await writes(t, user(2), "hello", at: now)
            #expect(try await t.get("/api/v1/tickets?sort=oldest").errorCode == "invalid_sort")
            #expect(try await t.get("/api/v1/tickets?sort=oldest").status == 400)
            let search = try await t.get("/api/v1/tickets?sort=waiting&q=hello")
            #expect(search.status == 422)
            #expect(search.errorCode == "invalid_sort")
            let newestCursor = try #require(try await t.get("/api/v1/tickets?limit=1").json["nextCursor"] as? String)
            let mixed = try await t.get("/api/v1/tickets?sort=waiting&cursor=" + newestCursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(mixed.errorCode == "invalid_cursor")
            #expect(try await t.get("/api/v1/tickets?sort=waiting&cursor=bm90OmE=").errorCode == "invalid_cursor")
        }
    }
}
