@testable import BridgeServer
import Foundation
import GRDB
import PlatformStandIns
import Testing

/// The whole loop on a live server over loopback: signed webhook in, ticket in the API, reply out
/// through the stand-in platform, status receipt back.
@Suite struct EndToEndTests {
    @Test func whatsappConversationRoundTrip() async throws {
        try await TestBridge.with(standIns: [.whatsapp]) { t in
            let webhook = try await t.postWhatsApp(Payloads.whatsappText("wamid.IN1", "Order status?"))
            #expect(webhook.status == 200)

            let list = try await t.get("/api/v1/tickets")
            #expect(list.status == 200)
            #expect(list.json.keys.contains("nextCursor"))
            let ticket = try #require(list.items.first)
            #expect(list.items.count == 1)
            #expect(ticket["status"] as? String == "new")
            #expect(ticket["channels"] as? [String] == ["whatsapp"])
            #expect((ticket["contact"] as? [String: Any])?["displayName"] as? String == "Ana")
            #expect(ticket["updatedAt"] is String)
            let ticketId = try #require(ticket["id"] as? Int)

            let inbound = try #require(try await t.messages(ticket: ticketId).first)
            #expect(inbound["direction"] as? String == "in")
            #expect(inbound["channel"] as? String == "whatsapp")
            #expect(inbound["text"] as? String == "Order status?")
            #expect(inbound["status"] as? String == "received")
            #expect(inbound["createdAt"] is String)

            let reply = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"It ships today."}"#)
            #expect(reply.status == 202)
            #expect(reply.json["status"] as? String == "queued")
            #expect(reply.json["direction"] as? String == "out")
            let replyId = try #require(reply.json["id"] as? Int)

            try await t.eventually("the reply at the WhatsApp stand-in") { !t.whatsapp.requests(to: "/v21.0/106540352242922/messages").isEmpty }
            let sent = try #require(t.whatsapp.requests.first)
            #expect(sent.method == "POST")
            #expect(sent.headers["authorization"] == "Bearer wa-test-token")
            #expect(sent.text == #"{"messaging_product":"whatsapp","recipient_type":"individual","text":{"body":"It ships today.","preview_url":false},"to":"5511988887777","type":"text"}"#)

            var wamid = ""
            try await t.eventually("the reply marked sent") {
                let out = try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }
                wamid = out?["platformMessageId"] as? String ?? ""
                return out?["status"] as? String == "sent"
            }
            #expect(wamid.hasPrefix("wamid."))

            #expect(try await t.postWhatsApp(Payloads.whatsappStatus(wamid, "delivered")).status == 200)
            let final = try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }
            #expect(final?["status"] as? String == "delivered")
            #expect(try await t.get("/api/v1/tickets/\(ticketId)").json["status"] as? String == "open")
        }
    }

    @Test func lineReplyTokenMediaAndProfile() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            #expect(try await t.postLINE(Payloads.lineImage("01EVT1")).status == 200)
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)

            // The image is copied from LINE's content API in the background and served to agents.
            var attachmentURL = ""
            try await t.eventually("the image stored") {
                let attachment = (try await t.messages(ticket: ticketId).first?["attachments"] as? [[String: Any]])?.first
                attachmentURL = attachment?["url"] as? String ?? ""
                return attachment?["status"] as? String == "stored"
            }
            let file = try await t.get(attachmentURL)
            #expect(file.status == 200)
            #expect(file.body == StandInPlatforms.sampleMedia)
            #expect(file.headers.first(name: "content-type") == "image/png")
            #expect(t.line.requests(to: "/v2/bot/message/468789577898262532/content").count == 1)

            // LINE webhooks carry no name: it comes from the profile API.
            let contactId = try #require((try await t.get("/api/v1/tickets/\(ticketId)").json["contact"] as? [String: Any])?["id"] as? Int)
            try await t.eventually("the profile name") {
                try await t.get("/api/v1/contacts/\(contactId)").json["displayName"] as? String == "Kenji"
            }

            // A reply right away uses the free reply token; the next one has none left and pushes.
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Thanks for the photo!"}"#).status == 202)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"We are on it."}"#).status == 202)
            let isSend = { (r: PlatformStandIn.RecordedRequest) in r.path == "/v2/bot/message/reply" || r.path == "/v2/bot/message/push" }
            try await t.eventually("both replies at LINE") { t.line.requests.filter(isSend).count == 2 }
            let sends = t.line.requests.filter(isSend)
            #expect(sends.map(\.path) == ["/v2/bot/message/reply", "/v2/bot/message/push"])
            #expect(sends[0].text == #"{"messages":[{"text":"Thanks for the photo!","type":"text"}],"replyToken":"rt-01EVT1"}"#)
            #expect(sends[1].text == #"{"messages":[{"text":"We are on it.","type":"text"}],"to":"U4af4980629a1b2c3d4e5f60718293a4b"}"#)
            #expect(sends[1].headers["x-line-retry-key"]?.count == 36)
        }
    }

    @Test func repliesLeaveInOrder() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Payloads.lineText("01ORDER", "hi", replyToken: "x", at: Int64(Date().timeIntervalSince1970 - 3600) * 1000))
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            // Slow platform: each send takes a moment, so later replies queue up behind earlier ones.
            t.line.script("/v2/bot/message/push", (0..<3).map { _ in .json(#"{"sentMessages":[{"id":"1"}]}"#, delay: .milliseconds(150)) })
            for i in 1...6 {
                #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"part \#(i)"}"#).status == 202)
            }
            try await t.eventually("six pushes") { t.line.requests(to: "/v2/bot/message/push").count == 6 }
            let texts = t.line.requests(to: "/v2/bot/message/push").compactMap {
                (($0.json as? [String: Any])?["messages"] as? [[String: Any]])?.first?["text"] as? String
            }
            #expect(texts == (1...6).map { "part \($0)" })
        }
    }

    @Test func sameConversationAcrossRedeliveries() async throws {
        try await TestBridge.with { t in
            let body = Payloads.whatsappText("wamid.DUP", "hello")
            for _ in 0..<3 { #expect(try await t.postWhatsApp(body).status == 200) }
            let tickets = try await t.get("/api/v1/tickets").items
            #expect(tickets.count == 1)
            #expect(try await t.messages(ticket: tickets[0]["id"] as! Int).count == 1)
        }
    }
}
