@testable import BridgeServer
import ChannelKit
import Foundation
import GRDB
import Testing
import UniversalInbox

/// Satisfaction ratings after resolution, and the service reports.
@Suite struct SatisfactionAndReportsTests {
    static func linePostback(_ eventId: String, _ data: String) -> String {
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        return #"{"destination":"Ubot","events":[{"type":"postback","timestamp":\#(ms),"webhookEventId":"\#(eventId)","deliveryContext":{"isRedelivery":false},"replyToken":"rt\#(eventId)","mode":"active","source":{"type":"user","userId":"\#(Payloads.lineUser)"},"postback":{"data":"\#(data)"}}]}"#
    }

    @Test func resolvedTicketsAskForARatingAndTheAnswerIsCreditedToTheAgent() async throws {
        try await TestBridge.with(standIns: [.line], configure: { $0.satisfaction.enabled = true }) { t in
            let ann = try await t.addAgent("Ann")
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my order?")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"Shipped today"}"#, token: ann.token)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved"}"#, token: ann.token)

            // The LINE customer gets the question with quick-reply buttons.
            try await t.eventually("the rating request sent") {
                t.line.requests(to: "/v2/bot/message").contains { $0.text.contains("quickReply") }
            }
            let request = try #require(t.line.requests(to: "/v2/bot/message").first { $0.text.contains("quickReply") })
            #expect(request.text.contains(#""data":"rating:good""#))
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "resolved")

            // A tap on "Good": recorded for Ann, and the ticket stays resolved.
            #expect(try await t.postLINE(Self.linePostback("01RATE1", "rating:good")).status == 200)
            let after = try await t.get("/api/v1/tickets/\(ticket)").json
            #expect(after["status"] as? String == "resolved")
            let history = try await t.get("/api/v1/tickets/\(ticket)/history").items
            #expect(history.last?["kind"] as? String == "rated")
            #expect((history.last?["detail"] as? [String: String])?["rating"] == "good")
            // Asked once: resolving again does not ask again.
            _ = try await t.customerWrites(Payloads.lineUser, "one more thing")
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved"}"#, token: ann.token)
            try await Task.sleep(for: .milliseconds(300))
            #expect(t.line.requests(to: "/v2/bot/message").filter { $0.text.contains("quickReply") }.count == 1)

            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            let report = try await t.get("/api/v1/reports/agents?from=\(today)&to=\(today)").items
            #expect(report.first?["ratingsGood"] as? Int == 1)
            #expect(report.first?["satisfaction"] as? Double == 1.0)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func smsCustomersAnswerWithANumber() async throws {
        try await TestBridge.with(standIns: [.sms], configure: { $0.satisfaction.enabled = true }) { t in
            _ = try await t.postSMS(Payloads.sms("SM00000000000000000000000000000001", "my bill is wrong"))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved"}"#)
            try await t.eventually("the rating request by SMS") {
                t.sms.requests.contains { FormEncoding.decode($0.body)?.first { $0.0 == "Body" }?.1.contains("2 = 👎 Bad") == true }
            }
            _ = try await t.postSMS(Payloads.sms("SM00000000000000000000000000000002", "2"))
            let rating = try await t.bridge.inbox.database.pool.read { db in
                try String.fetchOne(db, sql: "SELECT rating FROM ratings WHERE ticket_id = ?", arguments: [ticket])
            }
            #expect(rating == "bad")
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "resolved")
            // Anything else the customer writes afterwards reopens the ticket as usual.
            _ = try await t.postSMS(Payloads.sms("SM00000000000000000000000000000003", "2"))
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "open")
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aClosedWindowIsRecordedInsteadOfSending() async throws {
        try await TestBridge.with(standIns: [.whatsapp], configure: { $0.satisfaction.enabled = true }) { t in
            let twoDaysAgo = Int64(Date().timeIntervalSince1970) - 2 * 86400
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.RATE1", "hello", at: twoDaysAgo))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved"}"#)
            try await t.eventually("the refusal recorded") {
                try await t.bridge.inbox.database.pool.read { db in
                    try String.fetchOne(db, sql: "SELECT state FROM ratings WHERE ticket_id = ?", arguments: [ticket])
                } == "not_sent"
            }
            #expect(t.whatsapp.requests.isEmpty)
        }
    }

    @Test func agentAndChannelReports() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            var tickets: [Int64] = []
            for n in 1...3 { tickets.append(try await t.customerWrites("U" + String(format: "%032d", n), "question \(n)")) }
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.REPORT1", "hola"))
            for id in tickets.prefix(2) {
                _ = try await t.postJSON("/api/v1/tickets/\(id)/claim", "{}", token: ann.token)
                _ = try await t.postJSON("/api/v1/tickets/\(id)/messages", #"{"text":"On it"}"#, token: ann.token)
                _ = try await t.patchJSON("/api/v1/tickets/\(id)", #"{"status":"resolved"}"#, token: ann.token)
            }
            _ = try await t.postJSON("/api/v1/tickets/\(tickets[2])/claim", "{}", token: bob.token)
            _ = try await t.postJSON("/api/v1/tickets/\(tickets[2])/messages", #"{"text":"Looking"}"#, token: bob.token)

            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            #expect(try await t.get("/api/v1/reports/agents?from=\(today)&to=\(today)", token: ann.token).status == 403)
            let report = try await t.get("/api/v1/reports/agents?from=\(today)&to=\(today)")
            let rows = report.items
            #expect(rows.map { $0["name"] as? String } == ["Ann", "Bob"])
            #expect(rows.map { $0["rank"] as? Int } == [1, 2])
            #expect(rows.map { $0["ticketsHandled"] as? Int } == [2, 1])
            #expect(rows.map { $0["ticketsResolved"] as? Int } == [2, 0])
            #expect(rows.map { $0["resolutionRate"] as? Double } == [1.0, 0.0])
            #expect((rows.first?["medianFirstResponseSeconds"] as? Double ?? -1) >= 0)
            #expect(rows.last?["medianResolutionSeconds"] == nil)

            let csv = try await t.get("/api/v1/reports/agents?from=\(today)&to=\(today)&format=csv")
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first?.hasPrefix("rank,agent_id,name,tickets_handled,tickets_resolved") == true)
            #expect(lines.count == 3)
            #expect(lines[1].hasPrefix("1,\(ann.id),Ann,2,2,"))

            let channels = try await t.get("/api/v1/reports/channels?from=\(today)&to=\(today)").items
            let line = channels.first { $0["channel"] as? String == "line" }
            #expect(line?["newTickets"] as? Int == 3)
            #expect(line?["inboundMessages"] as? Int == 3)
            #expect(line?["outboundMessages"] as? Int == 3)
            #expect(channels.first { $0["channel"] as? String == "whatsapp" }?["newTickets"] as? Int == 1)

            // Another period has nothing.
            let empty = try await t.get("/api/v1/reports/agents?from=2020-01-01&to=2020-01-31").items
            #expect(empty.allSatisfy { $0["ticketsHandled"] as? Int == 0 })
            #expect(try await t.get("/api/v1/reports/agents?from=\(today)").errorCode == "invalid_period")
            #expect(try await t.get("/api/v1/reports/agents?from=2026-12-01&to=2026-11-01").errorCode == "invalid_period")
        }
    }
}

/// The contact's satisfaction answers on `GET /contacts/{id}` (the contact panel shows them).
@Suite struct ContactRatingsTests {
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aContactShowsItsAnsweredRatingsOnReadableTicketsNewestFirst() async throws {
        try await TestBridge.with(standIns: [.line], configure: { $0.satisfaction.enabled = true }) { t in
            let sales = try await t.addDepartment("Sales")
            let billing = try await t.addDepartment("Billing")
            let sam = try await t.addAgent("Sam", departments: [sales])
            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
            let first = try await t.customerWrites(Payloads.lineUser, "Where is my order?")
            _ = try await t.customerWrites(Payloads.lineUser, "And my invoice is wrong")
            let second = try #require(try await t.messages(ticket: first).last?["id"] as? Int)
            let billingTicket = try #require(try await t.postJSON("/api/v1/tickets/\(first)/split", #"{"messageIds":[\#(second)]}"#).json["id"] as? Int64)
            _ = try await t.postJSON("/api/v1/tickets/\(first)/transfer", #"{"departmentId":\#(sales)}"#)
            _ = try await t.postJSON("/api/v1/tickets/\(billingTicket)/transfer", #"{"departmentId":\#(billing)}"#)
            let contact = try #require((try await t.get("/api/v1/tickets/\(first)").json["contact"] as? [String: Any])?["id"] as? Int)
            func ratings(_ token: String? = nil) async throws -> [[String: Any]] {
                let reply = try await t.get("/api/v1/contacts/\(contact)", token: token ?? TestBridge.adminToken)
                return try #require(reply.json["ratings"] as? [[String: Any]], "ratings in \(reply.text)")
            }

            // Asked but not answered yet: nothing to show.
            _ = try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"resolved"}"#)
            try await t.eventually("the rating request sent") {
                t.line.requests(to: "/v2/bot/message").contains { $0.text.contains("quickReply") }
            }
            #expect(try await ratings().isEmpty)

            // The customer taps "Good", as in the test above.
            #expect(try await t.postLINE(SatisfactionAndReportsTests.linePostback("01RATECONTACT1", "rating:good")).status == 200)
            // A later "bad" on the billing ticket, recorded as the ingest records an answer.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try await t.bridge.inbox.database.pool.write { db in
                try db.execute(sql: """
                    INSERT INTO ratings (ticket_id, contact_id, requested_at, state, choices, rating, rated_at)
                    VALUES (?, ?, ?, 'requested', '[]', 'bad', ?)
                    """, arguments: [billingTicket, contact, now, now + 60000])
            }

            let all = try await ratings()
            #expect(all.map { $0["ticketId"] as? Int64 } == [billingTicket, first])
            #expect(all.map { $0["rating"] as? String } == ["bad", "good"])
            #expect(all.allSatisfy { ($0["answeredAt"] as? String)?.hasPrefix("20") == true })
            // Sam works Sales only: the billing ticket's answer is not his to read.
            let sams = try await ratings(sam.token)
            #expect(sams.map { $0["ticketId"] as? Int64 } == [first])
            #expect(sams.map { $0["rating"] as? String } == ["good"])
        }
    }
}
