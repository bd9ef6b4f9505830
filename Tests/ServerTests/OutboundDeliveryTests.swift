@testable import BridgeServer
import Foundation
import PlatformStandIns
import Testing

/// The dispatcher's retry and failure paths against the stand-in platform.
@Suite struct OutboundDeliveryTests {
    let push = "/v2/bot/message/push"

    func replyOnNewTicket(_ t: TestBridge, _ event: String) async throws -> (ticket: Int, message: Int) {
        // An old event: its reply token has expired, so replies go by push.
        _ = try await t.postLINE(Payloads.lineText(event, "hello", replyToken: "expired", at: 1_700_000_000_000))
        let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
        let reply = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"answer"}"#)
        return (ticket, try #require(reply.json["id"] as? Int))
    }

    func status(_ t: TestBridge, _ ids: (ticket: Int, message: Int)) async throws -> [String: Any]? {
        try await t.messages(ticket: ids.ticket).first { $0["id"] as? Int == ids.message }
    }

    @Test func throttledSendWaitsForRetryAfter() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            t.line.script(push, [.json(#"{"message":"Too many requests"}"#, status: 429, headers: ["retry-after": "1"])])
            let ids = try await replyOnNewTicket(t, "01R429")
            try await t.eventually("sent after the throttle") { try await status(t, ids)?["status"] as? String == "sent" }
            let attempts = t.line.requests(to: push)
            #expect(attempts.count == 2)
            // Both attempts carry the same retry key, so LINE can dedupe them.
            #expect(attempts[0].headers["x-line-retry-key"] == attempts[1].headers["x-line-retry-key"])
        }
    }

    @Test func serverErrorIsRetried() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            t.line.script(push, [.json(#"{"message":"Internal error"}"#, status: 500), .json(#"{"message":"Internal error"}"#, status: 502)])
            let ids = try await replyOnNewTicket(t, "01R500")
            try await t.eventually("sent after two outages") { try await status(t, ids)?["status"] as? String == "sent" }
            #expect(t.line.requests(to: push).count == 3)
        }
    }

    @Test func badTokenFailsWithoutRetry() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            t.line.script(push, [.json(#"{"message":"Authentication failed. Confirm that the access token in the authorization header is valid."}"#, status: 401)])
            let ids = try await replyOnNewTicket(t, "01R401")
            try await t.eventually("failed") { try await status(t, ids)?["status"] as? String == "failed" }
            let failure = try #require(try await status(t, ids)?["failure"] as? [String: Any])
            #expect(failure["code"] as? String == "http_401")
            #expect((failure["reason"] as? String)?.contains("Authentication failed") == true)
            try await Task.sleep(for: .milliseconds(300))
            #expect(t.line.requests(to: push).count == 1)
        }
    }

    @Test func persistentOutageGivesUpAfterMaxAttempts() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            t.line.script(push, (0..<4).map { _ in .json(#"{"message":"down"}"#, status: 503) })
            let ids = try await replyOnNewTicket(t, "01RGIVE")
            try await t.eventually("failed after 4 attempts") { try await status(t, ids)?["status"] as? String == "failed" }
            #expect(t.line.requests(to: push).count == 4)
            let reason = try #require((try await status(t, ids)?["failure"] as? [String: Any])?["reason"] as? String)
            #expect(reason.hasPrefix("gave up after 4 attempts"))
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, "reads the stopped bridge's store (on PostgreSQL its client has stopped with it)")) func shutdownDrainsSendsInFlight() async throws {
        let t = try await TestBridge.start(standIns: [.line])
        t.line.script(push, [.json(#"{"sentMessages":[{"id":"777"}]}"#, delay: .milliseconds(700))])
        let ids = try await replyOnNewTicket(t, "01DRAIN")
        try await t.eventually("the send in flight") { t.line.requests(to: push).count == 1 }
        await t.bridge.stop()
        // The server is down; the store shows the send finished before it stopped.
        let message = try #require(await t.bridge.inbox.message(id: Int64(ids.message)))
        #expect(message.status == "sent")
        #expect(message.platformMessageId == "777")
        await t.stopStandIns()
    }
}
