@testable import BridgeServer
import ChannelKit
import Foundation
import Testing

@Suite struct SMSEndToEndTests {
    let sendPath = "/2010-04-01/Accounts/AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a/Messages.json"

    @Test func smsRoundTripWithSegmentsAndStatusCallback() async throws {
        try await TestBridge.with(standIns: [.sms]) { t in
            let webhook = try await t.postSMS(Payloads.sms("SM0001", "Where is my order?", from: "+15550001111"))
            #expect(webhook.status == 200)
            #expect(webhook.headers.first(name: "content-type") == "text/xml")
            #expect(webhook.text.contains("<Response>"))
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=sms").items.first?["id"] as? Int)

            let text = "Your order ships today. " + String(repeating: "Thank you! ", count: 14)
            let reply = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"\#(text)"}"#)
            #expect(reply.status == 202)
            let replyId = try #require(reply.json["id"] as? Int)
            try await t.eventually("the SMS at Twilio") { !t.sms.requests(to: sendPath).isEmpty }
            let form = try #require(FormEncoding.decode(t.sms.requests(to: sendPath)[0].body))
            #expect(form.map(\.0) == ["To", "From", "Body", "StatusCallback"])
            #expect(form[0].1 == "+15550001111")
            #expect(form[3].1 == "https://bridge.example.com/webhooks/sms/main")

            var sid = ""
            try await t.eventually("sent with its segments") {
                let out = try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }
                sid = out?["platformMessageId"] as? String ?? ""
                return out?["status"] as? String == "sent"
            }
            let sent = try #require(try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId })
            let segments = try #require(sent["segments"] as? [String: Any])
            #expect(segments["count"] as? Int == 2)
            #expect(segments["encoding"] as? String == "gsm7")

            #expect(try await t.postSMS(Payloads.smsStatus(sid, "delivered")).status == 200)
            #expect(try await t.messages(ticket: ticketId).first { $0["id"] as? Int == replyId }?["status"] as? String == "delivered")
        }
    }

    @Test func stopOptsOutAndStartOptsBackIn() async throws {
        try await TestBridge.with(standIns: [.sms]) { t in
            _ = try await t.postSMS(Payloads.sms("SM0100", "hi", from: "+15550002222"))
            _ = try await t.postSMS(Payloads.sms("SM0101", "STOP", from: "+15550002222"))
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=sms").items.first?["id"] as? Int)
            let refused = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"one more thing"}"#)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "opted_out")
            #expect(t.sms.requests(to: sendPath).isEmpty)

            _ = try await t.postSMS(Payloads.sms("SM0102", "START", from: "+15550002222"))
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"welcome back"}"#).status == 202)
            try await t.eventually("the SMS after START") { t.sms.requests(to: sendPath).count == 1 }
        }
    }

    @Test func forgedTwilioPostIsRefused() async throws {
        try await TestBridge.with { t in
            let body = FormEncoding.encode(Payloads.sms("SM0200", "hi"))
            let forged = try await t.request(
                .POST, "/webhooks/sms/main", body: Data(body.utf8),
                headers: [("X-Twilio-Signature", Signatures.hmacSHA1Base64(secret: "guess", message: Data(body.utf8)))], token: nil)
            #expect(forged.status == 401)
            #expect(try await t.get("/api/v1/tickets").items.isEmpty)
        }
    }

    /// One customer on WhatsApp and SMS (the same phone number): one ticket, both channels, and the
    /// reply goes where they last wrote — or where the agent says.
    @Test func whatsappThenSMSIsOneTicketAndTheReplyGoesBySMS() async throws {
        try await TestBridge.with(standIns: [.whatsapp, .sms]) { t in
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.X1", "Hi, it's Ana"))
            _ = try await t.postSMS(Payloads.sms("SM0300", "my data ran out, texting instead"))
            let tickets = try await t.get("/api/v1/tickets").items
            #expect(tickets.count == 1)
            let ticket = try #require(tickets.first)
            #expect(ticket["channels"] as? [String] == ["whatsapp", "sms"])
            let ticketId = try #require(ticket["id"] as? Int)
            #expect(try await t.messages(ticket: ticketId).map { $0["channel"] as? String } == ["whatsapp", "sms"])
            let contactId = try #require((ticket["contact"] as? [String: Any])?["id"] as? Int)
            let identities = try await t.get("/api/v1/contacts/\(contactId)").json["identities"] as? [[String: Any]]
            #expect(identities?.compactMap { $0["channel"] as? String } == ["whatsapp", "sms"])

            let reply = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Got it, answering here."}"#)
            #expect(reply.json["channel"] as? String == "sms")
            try await t.eventually("the reply by SMS") { t.sms.requests(to: sendPath).count == 1 }
            #expect(t.whatsapp.requests.isEmpty)
            #expect(FormEncoding.decode(t.sms.requests(to: sendPath)[0].body)?.first?.1 == "+5511988887777")

            // The agent can still choose WhatsApp (inside its window).
            let chosen = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"Also on WhatsApp.","channel":"whatsapp"}"#)
            #expect(chosen.status == 202)
            #expect(chosen.json["channel"] as? String == "whatsapp")
            try await t.eventually("the reply on WhatsApp") { t.whatsapp.requests.count == 1 }
            let none = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"x","channel":"line"}"#)
            #expect(none.status == 422)
            #expect(none.errorCode == "no_such_channel")
        }
    }
}

@Suite struct ContactLinkTests {
    /// A LINE customer and a Messenger customer an agent knows to be the same person.
    @Test func linkedContactsShareOneTicketFromThenOn() async throws {
        try await TestBridge.with(standIns: [.line, .meta]) { t in
            _ = try await t.postLINE(Payloads.lineText("01LINK1", "hi from LINE"))
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_link1","text":"hi from Messenger"}"#))
            let tickets = try await t.get("/api/v1/tickets").items
            #expect(tickets.count == 2)
            let contacts = tickets.compactMap { ($0["contact"] as? [String: Any])?["id"] as? Int }
            let (keep, other) = (contacts[1], contacts[0])

            #expect(try await t.postJSON("/api/v1/contacts/\(keep)/links", #"{"contactId":\#(keep)}"#).errorCode == "same_contact")
            #expect(try await t.postJSON("/api/v1/contacts/\(keep)/links", #"{"contactId":999}"#).status == 404)
            let linked = try await t.postJSON("/api/v1/contacts/\(keep)/links", #"{"contactId":\#(other)}"#)
            #expect(linked.status == 200)
            #expect((linked.json["identities"] as? [[String: Any]])?.compactMap { $0["channel"] as? String }.sorted() == ["line", "messenger"])
            #expect(try await t.get("/api/v1/contacts/\(other)").status == 404)

            // Both tickets now belong to one contact; the next messages on either channel go to one ticket.
            for ticket in tickets { _ = try await t.patchJSON("/api/v1/tickets/\(ticket["id"] as! Int)", #"{"status":"closed"}"#) }
            _ = try await t.postLINE(Payloads.lineText("01LINK2", "LINE again"))
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_link2","text":"Messenger again"}"#))
            let open = try await t.get("/api/v1/tickets?status=new").items
            #expect(open.count == 1)
            #expect(open.first?["channels"] as? [String] == ["line", "messenger"])
        }
    }
}
