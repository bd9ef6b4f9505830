@testable import BridgeServer
import Foundation
import PlatformStandIns
import Testing
import UniversalInbox

/// `POST /api/v1/messages/{id}/retry`: a failed message goes back through the outbox.
@Suite struct MessageRetryTests {
    let push = "/v2/bot/message/push"

    @Test func aFailedMessageIsQueuedAgainWithItsKeyAndSent() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            // An old event: its reply token has expired, so the reply goes by push; the first push is refused for good.
            _ = try await t.postLINE(Payloads.lineText("01RETRY0000000000000000000", "hello", replyToken: "expired", at: 1_700_000_000_000))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            t.line.script(push, [.json(#"{"message":"Authentication failed."}"#, status: 401)])
            let reply = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"answer"}"#, token: ann.token)
            let id = try #require(reply.json["id"] as? Int)
            func message() async throws -> [String: Any]? { try await t.messages(ticket: ticket).first { $0["id"] as? Int == id } }
            try await t.eventually("failed") { try await message()?["status"] as? String == "failed" }
            let head = try #require(try await t.get("/api/v1/events?after=0").json["head"] as? Int)

            // Not failed: 409, and nothing changes.
            let inbound = try #require(try await t.messages(ticket: ticket).first?["id"] as? Int64)
            #expect(try await t.postJSON("/api/v1/messages/\(inbound)/retry", "", token: ann.token).errorCode == "not_failed")
            #expect(try await t.postJSON("/api/v1/messages/999999/retry", "", token: ann.token).status == 404)

            let retried = try await t.postJSON("/api/v1/messages/\(id)/retry", "", token: ann.token)
            #expect(retried.status == 202, "\(retried.text)")
            #expect(["queued", "sent"].contains(retried.json["status"] as? String))
            #expect(retried.json["failure"] == nil)
            try await t.eventually("sent") { try await message()?["status"] as? String == "sent" }
            let attempts = t.line.requests(to: push)
            #expect(attempts.count == 2)
            #expect(attempts.count == 2 && attempts[0].headers["x-line-retry-key"] == attempts[1].headers["x-line-retry-key"])
            // The log has it going back to queued, then sent.
            let statuses = try await t.get("/api/v1/events?after=\(head)").events.filter { $0["messageId"] as? Int == id }.compactMap { $0["status"] as? String }
            #expect(statuses == ["queued", "sent"])
            // Sent now: not again.
            #expect(try await t.postJSON("/api/v1/messages/\(id)/retry", "", token: ann.token).status == 409)
            #expect(t.line.requests(to: push).count == 2)
        }
    }

    @Test func onlyWhoMayAnswerTheTicketAndNotOnAClosedOne() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            _ = try await t.patchJSON("/api/v1/agents/\(bob.id)", #"{"answerAssignedOnly":true}"#)
            _ = try await t.postLINE(Payloads.lineText("01RETRY1000000000000000000", "hello", replyToken: "expired", at: 1_700_000_000_000))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)
            t.line.script(push, [.json(#"{"message":"Authentication failed."}"#, status: 401)])
            let id = try #require(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"answer"}"#, token: ann.token).json["id"] as? Int)
            try await t.eventually("failed") { try await t.messages(ticket: ticket).first { $0["id"] as? Int == id }?["status"] as? String == "failed" }

            let refused = try await t.postJSON("/api/v1/messages/\(id)/retry", "", token: bob.token)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "not_assigned_to_you")
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"closed"}"#, token: ann.token)
            #expect(try await t.postJSON("/api/v1/messages/\(id)/retry", "", token: ann.token).errorCode == "ticket_closed")
            #expect(try await t.messages(ticket: ticket).first { $0["id"] as? Int == id }?["status"] as? String == "failed")
            #expect(t.line.requests(to: push).count == 1)
        }
    }
}
