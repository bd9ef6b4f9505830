@testable import BridgeServer
import ChannelKit
import Foundation
import Testing

/// Agents working from Slack alone: tickets appear as threads, thread replies reach the customer on
/// their channel, buttons act on the ticket, and the thread shows what happened.
@Suite struct SlackEndToEndTests {
    @Test func agentWorksATicketFromSlack() async throws {
        try await TestBridge.with(standIns: [.whatsapp, .slack]) { t in
            // A new WhatsApp ticket becomes a parent message with buttons.
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.S1", "Order status?"))
            try await t.eventually("the ticket in Slack") { t.slackPosts.count == 1 }
            let parent = try #require(t.slackPosts.first)
            #expect(parent["channel"] as? String == "C0SUPPORT")
            #expect((parent["text"] as? String)?.contains("Ana") == true)
            #expect((parent["text"] as? String)?.contains("Order status?") == true)
            #expect(parent["thread_ts"] == nil)
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            // The bridge records the thread once Slack has answered its post: wait for it.
            try await t.eventually("the thread recorded") { try await t.bridge.inbox.consoleThread(account: "slack/main", ticketId: Int64(ticketId)) != nil }
            let thread = try #require(await t.bridge.inbox.consoleThread(account: "slack/main", ticketId: Int64(ticketId)))

            // A later customer message goes into the thread.
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.S2", "It was due yesterday"))
            try await t.eventually("the follow-up in the thread") { t.slackPosts.count == 2 }
            #expect(t.slackPosts[1]["thread_ts"] as? String == thread)
            #expect(t.slackPosts[1]["text"] as? String == "*Ana* (whatsapp): It was due yesterday")

            // The agent answers in the thread; Slack retries the event once; the customer gets it once.
            let event = Payloads.slackThreadReply("Ev0000000001", thread: thread, text: "Hi Ana, it ships today.")
            #expect(try await t.postSlack(event).status == 200)
            #expect(try await t.postSlack(event, retryNum: 1).status == 200)
            try await t.eventually("the reply on WhatsApp") { t.whatsapp.requests.count == 1 }
            #expect((t.whatsapp.requests[0].json as? [String: Any]).flatMap { ($0["text"] as? [String: Any])?["body"] as? String } == "Hi Ana, it ships today.")
            let reply = try #require(try await t.messages(ticket: ticketId).last)
            #expect(reply["direction"] as? String == "out")
            // The thread shows the outcome, and not the agent's own message again.
            try await t.eventually("the outcome in the thread") { t.slackPosts.contains { ($0["text"] as? String)?.hasPrefix("✓ sent on whatsapp") == true } }
            #expect(!t.slackPosts.contains { ($0["text"] as? String)?.contains("→ _reply") == true })
            try await Task.sleep(for: .milliseconds(200))
            #expect(t.whatsapp.requests.count == 1)

            // Buttons: claim (Bob, named from his Slack profile), then resolve.
            #expect(try await t.postSlack(Payloads.slackButton("claim", ticket: ticketId, thread: thread, trigger: "t1"), form: true).status == 200)
            #expect(try await t.get("/api/v1/tickets/\(ticketId)").json["assignee"] as? String == "bob@example.com")
            #expect(try await t.postSlack(Payloads.slackButton("resolve", ticket: ticketId, thread: thread, trigger: "t2"), form: true).status == 200)
            #expect(try await t.get("/api/v1/tickets/\(ticketId)").json["status"] as? String == "resolved")
            try await t.eventually("the notices in the thread") {
                let texts = t.slackPosts.compactMap { $0["text"] as? String }
                return texts.contains("👤 claimed by bob@example.com") && texts.contains("✔ resolved by bob@example.com")
            }
        }
    }

    @Test func refusedReplyIsExplainedInTheThread() async throws {
        try await TestBridge.with(standIns: [.whatsapp, .slack]) { t in
            let twoDaysAgo = Int64(Date().timeIntervalSince1970) - 2 * 86400
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.OLD1", "hello", at: twoDaysAgo))
            try await t.eventually("the ticket in Slack") { t.slackPosts.count == 1 }
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            // The bridge records the thread once Slack has answered its post: wait for it.
            try await t.eventually("the thread recorded") { try await t.bridge.inbox.consoleThread(account: "slack/main", ticketId: Int64(ticketId)) != nil }
            let thread = try #require(await t.bridge.inbox.consoleThread(account: "slack/main", ticketId: Int64(ticketId)))
            _ = try await t.postSlack(Payloads.slackThreadReply("Ev0000000009", thread: thread, text: "still there?"))
            try await t.eventually("the refusal in the thread") {
                t.slackPosts.contains { ($0["text"] as? String)?.hasPrefix("❌ not sent to the customer: WhatsApp only allows free-form messages") == true }
            }
            #expect(t.whatsapp.requests.isEmpty)
        }
    }

    @Test func slackRequestsAreVerified() async throws {
        try await TestBridge.with(standIns: [.whatsapp, .slack]) { t in
            let challenge = try await t.postSlack(#"{"token":"x","challenge":"abc123","type":"url_verification"}"#)
            #expect(challenge.status == 200)
            #expect(challenge.text == "abc123")
            let stale = try await t.postSlack(#"{"token":"x","challenge":"abc123","type":"url_verification"}"#, timestamp: Int(Date().timeIntervalSince1970) - 600)
            #expect(stale.status == 401)
            let forged = try await t.request(
                .POST, "/webhooks/slack/main", body: Data(#"{"type":"url_verification","challenge":"x"}"#.utf8),
                headers: [("X-Slack-Signature", "v0=00"), ("X-Slack-Request-Timestamp", String(Int(Date().timeIntervalSince1970)))], token: nil)
            #expect(forged.status == 401)
            #expect(try await t.request(.POST, "/webhooks/slack/other", body: Data("{}".utf8), token: nil).status == 404)
            // A bot's own message in a thread is not sent anywhere.
            _ = try await t.postSlack(#"{"type":"event_callback","event_id":"EvBOT","event":{"type":"message","subtype":"bot_message","bot_id":"B1","channel":"C0SUPPORT","text":"x","ts":"2.0","thread_ts":"1.0"}}"#)
            #expect(t.whatsapp.requests.isEmpty)
        }
    }
}
