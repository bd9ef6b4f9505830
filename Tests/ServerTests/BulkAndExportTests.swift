@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Mass actions, transcripts, CSV export and the customer's signed history link.
@Suite struct BulkAndExportTests {
    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    @Test func massActionsOnASelectionOrAFilterReportEachTicket() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            var ids: [Int] = []
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
            #expect(failure?["ticketId"] as? Int == ids[3])
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
        try await TestBridge.with { t in
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

    @Test func customersSeeTheirOwnHistoryThroughASignedExpiringLink() async throws {
        try await TestBridge.with { t in
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
            let expired = try HistoryLinks.loadOrCreate(besides: t.dataDirectory + "/bridge.sqlite").token(contactId: Int64(contact), expiresAt: Date().addingTimeInterval(-1))
            #expect(try await t.get("/history/\(expired)", token: nil).status == 410)
            #expect(try await t.postJSON("/api/v1/contacts/\(contact)/history-link", #"{"days":365}"#).errorCode == "invalid_days")
            #expect(try await t.postJSON("/api/v1/contacts/999/history-link", "{}").status == 404)
        }
    }
}
