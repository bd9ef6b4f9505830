@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Mass actions, transcripts, CSV export and the customer's signed history link.
@Suite struct BulkAndExportTests {
    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    @Test func massActionsOnASelectionOrAFilterReportEachTicket() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            var ids: [Int64] = []
            for n in 1...4 { ids.append(try await t.customerWrites(Self.user(n), "hello \(n)")) }
            _ = try await t.patchJSON("/api/v1/tickets/\(ids[3])", #"{"status":"closed"}"#)

            let tagged = try await t.postJSON("/api/v1/tickets/bulk", #"{"ticketIds":\#(ids),"changes":{"addTags":["wave"],"priority":"high"}}"#, token: ann.token)
            #expect(tagged.status == 200)
            #expect(tagged.json["succeeded"] as? Int == 4)  // a closed ticket still takes tags
            let resolved = try await t.postJSON("/api/v1/tickets/bulk", #"{"filter":"tag=wave&status=new","changes":{"status":"resolved"}}"#)
            #expect(resolved.json["succeeded"] as? Int == 3)
            #expect(try await t.get("/api/v1/tickets?status=resolved").items.count == 3)

            // Reply to all four: the closed one fails, the others are queued.
            let replied = try await t.postJSON("/api/v1/tickets/bulk", #"{"ticketIds":\#(ids),"reply":{"text":"We are back online"}}"#)
            #expect(replied.json["succeeded"] as? Int == 3)
            #expect(replied.json["failed"] as? Int == 1)
            let failure = replied.items.first { $0["ok"] as? Bool == false }
            #expect(failure?["ticketId"] as? Int64 == ids[3])
            #expect((failure?["error"] as? [String: Any])?["code"] as? String == "ticket_closed")
            try await t.eventually("three replies sent") { t.line.requests(to: "/v2/bot/message").count == 3 }

            let assigned = try await t.postJSON("/api/v1/tickets/bulk", #"{"filter":"status=resolved","transfer":{"agentId":\#(ann.id)}}"#)
            #expect(assigned.json["succeeded"] as? Int == 3)
            #expect(try await t.get("/api/v1/tickets?agent=\(ann.id)").items.count == 3)

            #expect(try await t.postJSON("/api/v1/tickets/bulk", #"{"ticketIds":[1]}"#).errorCode == "one_action")
            #expect(try await t.postJSON("/api/v1/tickets/bulk", #"{"changes":{"status":"open"}}"#).errorCode == "invalid_selection")
            #expect(try await t.postJSON("/api/v1/tickets/bulk", #"{"filter":"status=nope","changes":{"status":"open"}}"#).errorCode == "invalid_status")
            #expect(try await t.postJSON("/api/v1/tickets/bulk", #"{"ticketIds":[1],"reply":{"text":""}}"#).errorCode == "invalid_request")
        }
    }

    @Test func transcriptAndCSV() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let ticket = try await t.customerWrites(Payloads.lineUser, "My <b>order</b> & 'parcel'")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"On its way!"}"#, token: ann.token)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"VIP customer"}"#, token: ann.token)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"addTags":["=cmd|' /C calc'!A0"]}"#)

            let html = try await t.get("/api/v1/tickets/\(ticket)/transcript")
            #expect(html.headers.first(name: "content-type")?.hasPrefix("text/html") == true)
            #expect(html.text.contains("My &lt;b&gt;order&lt;/b&gt; &amp; &#39;parcel&#39;"))
            #expect(!html.text.contains("<b>order"))
            #expect(html.text.contains("Ann"))
            #expect(html.text.contains("VIP customer"))
            #expect(html.text.range(of: "order")!.lowerBound < html.text.range(of: "On its way!")!.lowerBound)
            #expect(!(try await t.get("/api/v1/tickets/\(ticket)/transcript?notes=false").text.contains("VIP customer")))

            let csv = try await t.get("/api/v1/tickets/export.csv?status=open")
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first == "id,status,priority,contact_id,contact_name,channels,assignee,department_id,tags,created_at,updated_at,resolved_at")
            #expect(lines.count == 2)
            #expect(lines[1].hasPrefix("\(ticket),open,normal,"))
            #expect(lines[1].contains("'=cmd|' /c calc'!a0"))  // a formula is not a formula in a spreadsheet
            #expect(try await t.get("/api/v1/tickets/export.csv?status=spam").text.split(separator: "\r\n").count == 1)
        }
    }

    /// The transcript shows times in the reader's zone (`tz`, which the page sends) and names it.
    @Test func transcriptTimesAreInTheAgentsTimeZone() async throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        let lateEvening = Date(timeIntervalSince1970: 1_704_151_800)  // 2024-01-01 23:30 UTC
        #expect(TranscriptHTML.time(lateEvening, in: tokyo) == "2024-01-02 08:30:00 +09:00")
        #expect(TranscriptHTML.time(lateEvening, in: TranscriptHTML.utc) == "2024-01-01 23:30:00 +00:00")
        #expect(TranscriptHTML.time(lateEvening, in: try #require(TimeZone(identifier: "America/St_Johns"))) == "2024-01-01 20:00:00 -03:30")
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "What time is it there?")
            let createdAt = try #require(try await t.messages(ticket: ticket).first?["createdAt"] as? String)
            let sent = try #require(try? Date(createdAt, strategy: .iso8601))
            let inTokyo = try await t.get("/api/v1/tickets/\(ticket)/transcript?tz=Asia%2FTokyo")
            #expect(inTokyo.status == 200)
            #expect(inTokyo.text.contains("Times in Asia/Tokyo (UTC+09:00)"))
            #expect(inTokyo.text.contains(TranscriptHTML.time(sent, in: tokyo)))
            #expect(!inTokyo.text.contains(TranscriptHTML.time(sent, in: TranscriptHTML.utc)))
            let plain = try await t.get("/api/v1/tickets/\(ticket)/transcript")
            #expect(plain.text.contains("Times in UTC"))
            #expect(plain.text.contains(TranscriptHTML.time(sent, in: TranscriptHTML.utc)))
            for (bad, status) in [("Mars%2FOlympus", 422), ("", 400), ("Asia%2FTokyo&tz=UTC", 400), ("n%C2%A8%1B", 400), ("Asia%2F%2FTokyo", 400)] {
                let refused = try await t.get("/api/v1/tickets/\(ticket)/transcript?tz=\(bad)")
                #expect(refused.status == status, "\(bad)")
                #expect(refused.errorCode == "invalid_tz", "\(bad)")
            }
        }
    }

    @Test func customersSeeTheirOwnHistoryThroughASignedExpiringLink() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let first = try await t.customerWrites(Payloads.lineUser, "first question")
            _ = try await t.postJSON("/api/v1/tickets/\(first)/notes", #"{"text":"secret internal note"}"#)
            _ = try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"closed"}"#)
            let second = try await t.customerWrites(Payloads.lineUser, "second question")
            _ = try await t.customerWrites(Self.user(5), "someone else's question")
            let contact = try #require((try await t.get("/api/v1/tickets/\(second)").json["contact"] as? [String: Any])?["id"] as? Int)

            let link = try await t.postJSON("/api/v1/contacts/\(contact)/history-link", #"{"days":7}"#)
            #expect(link.status == 201)
            let url = try #require(link.json["url"] as? String)
            #expect(url.hasPrefix(TestBridge.publicBaseURL + "/history/"))
            let path = String(url.dropFirst(TestBridge.publicBaseURL.count))
            let page = try await t.get(path, token: nil)
            #expect(page.status == 200)
            #expect(page.text.contains("first question"))
            #expect(page.text.contains("second question"))
            #expect(!page.text.contains("secret internal note"))
            #expect(!page.text.contains("someone else"))

            // Tampered or expired links show nothing.
            let tampered = path.replacingOccurrences(of: "/history/\(contact).", with: "/history/\(contact + 1).")
            #expect(try await t.get(tampered, token: nil).status == 404)
            let expired = try HistoryLinks.loadOrCreate(in: t.dataDirectory).token(contactId: Int64(contact), expiresAt: Date().addingTimeInterval(-1))
            #expect(try await t.get("/history/\(expired)", token: nil).status == 410)
            #expect(try await t.postJSON("/api/v1/contacts/\(contact)/history-link", #"{"days":365}"#).errorCode == "invalid_days")
            #expect(try await t.postJSON("/api/v1/contacts/999/history-link", "{}").status == 404)
        }
    }
}
