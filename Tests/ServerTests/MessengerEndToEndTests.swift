@testable import BridgeServer
import ChannelKit
import Foundation
import PlatformStandIns
import Testing

@Suite struct MessengerEndToEndTests {
    @Test(arguments: [ChannelKind.messenger, .instagram])
    func conversationRoundTrip(_ kind: ChannelKind) async throws {
        try await TestBridge.with(standIns: [.meta]) { t in
            let image = t.meta.baseURL + "/cdn/photo.jpg"
            let webhook = try await t.postMeta(kind, Payloads.meta(kind, #""message":{"mid":"m_in1","text":"is this yours?","attachments":[{"type":"image","payload":{"url":"\#(image)"}}]}"#))
            #expect(webhook.status == 200)
            #expect(webhook.text == "EVENT_RECEIVED")
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=\(kind.rawValue)").items.first)
            let ticketId = try #require(ticket["id"] as? Int)
            #expect(ticket["channels"] as? [String] == [kind.rawValue])

            // The CDN image is copied into the bridge's store; the name comes from the profile API.
            try await t.eventually("the image stored and the name fetched") {
                let attachment = (try await t.messages(ticket: ticketId).first?["attachments"] as? [[String: Any]])?.first
                let name = (try await t.get("/api/v1/tickets/\(ticketId)").json["contact"] as? [String: Any])?["displayName"] as? String
                return attachment?["status"] as? String == "stored" && name == "Lena Vogel"
            }

            let reply = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Yes, thank you!"}"#)
            #expect(reply.status == 202)
            let replyId = try #require(reply.json["id"] as? Int)
            try await t.eventually("the reply at the Send API") { !t.meta.requests(to: "/v21.0/1122334455/messages").isEmpty }
            #expect(t.meta.requests(to: "/v21.0/1122334455/messages").first?.text
                == #"{"message":{"text":"Yes, thank you!"},"messaging_type":"RESPONSE","recipient":{"id":"6543210987654321"}}"#)

            var mid = ""
            try await t.eventually("the reply sent") {
                let out = try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }
                mid = out?["platformMessageId"] as? String ?? ""
                return out?["status"] as? String == "sent"
            }
            #expect(try await t.postMeta(kind, Payloads.meta(kind, #""delivery":{"mids":["\#(mid)"],"watermark":\#(Int64(Date().timeIntervalSince1970 * 1000))}"#)).status == 200)
            #expect(try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }?["status"] as? String == "delivered")
            let read = kind == .instagram
                ? #""read":{"mid":"\#(mid)"}"#
                : #""read":{"watermark":\#(Int64(Date().timeIntervalSince1970 * 1000) + 1000)}"#
            #expect(try await t.postMeta(kind, Payloads.meta(kind, read)).status == 200)
            #expect(try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }?["status"] as? String == "read")
        }
    }

    @Test func staleConversationIsRefusedWithTheReason() async throws {
        try await TestBridge.with(standIns: [.meta]) { t in
            let eightDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 8 * 86_400_000
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_old","text":"hello"}"#, at: eightDaysAgo))
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            let refused = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"sorry for the wait"}"#)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "outside_window")
            #expect(t.meta.requests(to: "/v21.0/1122334455/messages").isEmpty)
        }
    }
}
