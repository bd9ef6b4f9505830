@testable import BridgeServer
import Foundation
import NIOHTTP1
import Testing
import Yams

/// The server keeps openapi.yaml's contract (what schemathesis checks in `scripts/schemathesis.sh`):
/// 400 only for a request that does not match the document, and then always; 422 for a
/// well-formed request a rule in words refuses; 403 for what only an agent has; 405 for a method
/// a path does not have.
@Suite struct APIContractTests {
    /// `null` where the document has none is 400 and changes nothing; it used to read as "left out".
    @Test func nullWhereTheDocumentHasNoneIsRefused() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let changed = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"pending","priority":null}"#)
            #expect(changed.status == 400)
            #expect(changed.errorCode == "invalid_json")
            #expect(changed.errorMessage?.contains("\"priority\" must not be null") == true)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "new", "nothing changed")

            let department = try await t.addDepartment("Sales")
            let transfer = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(department),"note":null}"#)
            #expect(transfer.status == 400)
            #expect(transfer.errorMessage?.contains("\"note\"") == true)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["departmentId"] == nil, "nothing changed")

            let agent = try await t.addAgent("Ann")
            #expect(try await t.postJSON("/api/v1/agents/\(agent.id)/tokens", #"{"label":null}"#).status == 400)
            let hours = #"{"timeZone":"Asia/Tokyo","weekly":{"mon":[["09:00","18:00"]]},"outOfHoursReply":null}"#
            #expect(try await t.request(.PUT, "/api/v1/business-hours", body: Data(hours.utf8)).status == 400)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"x","tags":[null]}"#).status == 201, "a key the operation does not read")
            // Where the document takes null (to clear), it is taken.
            _ = try await t.postJSON("/api/v1/fields", #"{"key":"plan","label":"Plan","type":"text"}"#)
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"plan":"pro"}}"#).status == 200)
            let cleared = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"plan":null}}"#)
            #expect(cleared.status == 200)
            #expect((cleared.json["fields"] as? [String: Any])?["plan"] == nil)
            let contact = try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"email":"kenji@example.com"}"#).json["email"] as? String == "kenji@example.com")
            let noEmail = try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"email":null}"#)
            #expect(noEmail.status == 200)
            #expect(noEmail.json["email"] == nil)
            #expect(try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"displayName":null}"#).status == 400)
        }
    }

    /// Text with a NUL is 400: SQLite hands text back cut at the NUL, so it was stored and shown
    /// cut ("\u0000Plan" came back as ""; schemathesis found it through a field's label).
    @Test func textWithANulIsRefused() async throws {
        try await TestBridge.with { t in
            let field = try await t.postJSON("/api/v1/fields", #"{"key":"plan","label":"\u0000Plan","type":"text"}"#)
            #expect(field.status == 400)
            #expect(field.errorMessage?.contains("\"label\" must not contain a NUL character") == true)
            #expect(try await t.get("/api/v1/fields").items.isEmpty)
            let rule = #"{"name":"a\u0000b","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"x"}],"other":"\u0000"}"#
            #expect(try await t.postJSON("/api/v1/rules", rule).status == 400)
            // A key the operation does not read may hold anything.
            #expect(try await t.postJSON("/api/v1/departments", #"{"name":"Sales","note":"\u0000"}"#).status == 201)
        }
    }

    /// A query value the document does not allow is 400, never clamped or ignored.
    @Test func queryValuesAreReadAsTheDocumentTypesThem() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            for (path, code) in [
                ("/api/v1/campaigns/1/recipients?limit=1001", "invalid_limit"),
                ("/api/v1/campaigns/1/recipients?limit=0", "invalid_limit"),
                ("/api/v1/campaigns/1/recipients?after=abc", "invalid_after"),
                ("/api/v1/campaigns/1/report?format=xml", "invalid_format"),
                ("/api/v1/tickets/\(ticket)/transcript?notes=null", "invalid_notes"),
                ("/api/v1/tickets?limit=5&limit=6", "invalid_limit"),
                ("/api/v1/tickets?department=0", "invalid_department"),
                ("/api/v1/unreadable-events?limit=201", "invalid_limit"),
                ("/api/v1/unreadable-events?before=x", "invalid_before"),
                ("/api/v1/canned-responses?ticketId=0", "invalid_ticketId"),
                ("/api/v1/tickets?createdFrom=2026-02-30", "invalid_createdFrom"),
                ("/api/v1/reports/channels?from=2026-11-01&to=2026-11-30&format=pdf", "invalid_format"),
            ] {
                let reply = try await t.get(path)
                #expect(reply.status == 400, "\(path)")
                #expect(reply.errorCode == code, "\(path)")
            }
            #expect(try await t.get("/api/v1/tickets/\(ticket)/transcript?notes=false").status == 200)
            // RFC 3339 date-times with a fraction and an offset, as the document's format allows.
            #expect(try await t.get("/api/v1/tickets?createdFrom=2026-01-01T00:00:00.123456%2B05:30").status == 200)
            #expect(try await t.get("/api/v1/reports/channels?from=2026-11-01T00:00:00.5Z&to=2026-11-30").status == 200)
        }
    }

    @Test func aMethodThePathDoesNotHaveIs405WithAllow() async throws {
        try await TestBridge.with { t in
            let trace = try await t.request(HTTPMethod(rawValue: "TRACE"), "/api/v1/tickets")
            #expect(trace.status == 405)
            #expect(trace.errorCode == "method_not_allowed")
            #expect(trace.headers["Allow"] == ["GET"])
            let delete = try await t.request(.DELETE, "/api/v1/tickets/1")
            #expect(delete.status == 405)
            #expect(delete.headers["Allow"] == ["GET, PATCH"])
            #expect(try await t.request(.PUT, "/health").headers["Allow"] == ["GET"])
            // A literal segment wins over a capture, as in the router: export.csv is not a ticket id.
            #expect(try await t.request(.OPTIONS, "/api/v1/tickets/export.csv").headers["Allow"] == ["GET"])
            #expect(try await t.request(.GET, "/api/v1/rules/order").headers["Allow"] == ["PUT"])
            #expect(try await t.get("/api/v1/no-such-thing").status == 404)
        }
    }

    /// The admin token is not an agent: what only an agent has is 403, and `/me` is its name and role.
    @Test func theAdminTokenIsRefusedWhatOnlyAnAgentHas() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            for reply in [
                try await t.get("/api/v1/me/alerts"),
                try await t.request(.PUT, "/api/v1/tickets/\(ticket)/read"),
                try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}"),
                try await t.get("/api/v1/tickets?agent=me"),
                try await t.postJSON("/api/v1/views", #"{"name":"Mine","filter":"status=open"}"#),
            ] {
                #expect(reply.status == 403)
                #expect(reply.errorCode == "not_an_agent")
            }
            let me = try await t.get("/api/v1/me")
            #expect(me.json["name"] as? String == "admin token")
            #expect(me.json["role"] as? String == "owner")
        }
    }

    /// A request the document calls valid, refused by a rule in its words, is 422 (never 400).
    @Test func wellFormedRequestsRefusedByRulesInWordsAre422() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let hours = #"{"timeZone":"Mars/Olympus","weekly":{"mon":[["09:00","18:00"]]}}"#
            for (reply, code) in [
                (try await t.request(.PUT, "/api/v1/business-hours", body: Data(hours.utf8)), "invalid_time_zone"),
                (try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":999}"#), "no_such_agent"),
                (try await t.get("/api/v1/tickets?cursor=zzz"), "invalid_cursor"),
                (try await t.get("/api/v1/tickets?view=999"), "invalid_view"),
                (try await t.postJSON("/api/v1/rules", #"{"name":"r","trigger":"ticket_created","conditions":{"textMatches":"("},"actions":[{"type":"add_tag","tag":"x"}]}"#), "invalid_regex"),
                (try await t.postJSON("/api/v1/tickets/bulk", #"{"ticketIds":[\#(ticket)],"filter":"status=open","changes":{"priority":"high"}}"#), "invalid_selection"),
                (try await t.postJSON("/api/v1/tickets/bulk", #"{"filter":"status=done","changes":{"priority":"high"}}"#), "invalid_status"),
                (try await t.get("/api/v1/reports/channels?from=2026-11-30&to=2026-11-01"), "invalid_period"),
            ] {
                #expect(reply.status == 422, "\(code)")
                #expect(reply.errorCode == code)
            }
            // What the document states as a schema stays 400.
            let blankName = try await t.postJSON("/api/v1/departments", #"{"name":"\u3000 "}"#)
            #expect(blankName.status == 400)
            #expect(blankName.errorCode == "invalid_name")
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"addTags":[]}"#).errorCode == "nothing_to_change")
            // A campaign's audience is checked when it is made, not later when it starts (a start
            // has no body: 400 there would say nothing the caller sent was wrong).
            let campaign = try await t.postJSON("/api/v1/campaigns", #"{"name":"Sale","audience":{"tags":[" "]},"content":{"text":"20% off"}}"#)
            #expect(campaign.status == 400)
            #expect(campaign.errorCode == "invalid_tag")
            #expect(try await t.get("/api/v1/campaigns").items.isEmpty)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["priority"] as? String == "normal", "nothing changed")
        }
    }

    /// Lengths are the document's: Unicode code points, so "\r\n" is two and a letter with a
    /// combining mark is two (a Swift `Character` count says one).
    @Test func lengthsAreCountedAsTheDocumentCountsThem() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let note = String(repeating: "e\\u0301", count: 2049)  // 4098 code points, 2049 characters
            let long = try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"\#(note)"}"#)
            #expect(long.status == 400)
            #expect(long.errorCode == "invalid_note")
            let reply = String(repeating: "\\r\\n", count: 2049)  // 4098 code points
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"x\#(reply)"}"#).errorCode == "text_too_long")
            #expect(try await t.get("/api/v1/tickets/\(ticket)/notes").items.isEmpty)
        }
    }

    /// Every operation that reads a path or query parameter or a body documents the 400 the
    /// readers give, and every one with a body the 413; `/me` documents the admin token's shape.
    @Test func theDocumentListsTheRefusalsTheReadersGive() throws {
        let document = try #require(try Yams.load(yaml: try OpenAPIDocument.text()) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var missing: [String] = []
        // Pages take any string in their paths (a history token, the web app's own paths, an asset's path, an upload's link, an unsubscribe token): never a 400.
        let pages = ["/history/", "/inbox/", "/console/", "/assets/", "/media/", "/unsubscribe/", "/widget/{accountId}"]
        for (path, item) in paths where !path.hasPrefix("/webhooks/") && path != "/api/v1/live" && !pages.contains(where: path.hasPrefix) {
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let operation = item[method] as? [String: Any], let responses = operation["responses"] as? [String: Any] else { continue }
                let takesInput = item["parameters"] != nil || operation["parameters"] != nil || operation["requestBody"] != nil
                if takesInput, responses["400"] == nil { missing.append("\(method.uppercased()) \(path) 400") }
                if operation["requestBody"] != nil, responses["413"] == nil { missing.append("\(method.uppercased()) \(path) 413") }
            }
        }
        #expect(missing == [])
        let me = try #require((((paths["/api/v1/me"]?["get"] as? [String: Any])?["responses"] as? [String: Any])?["200"] as? [String: Any]))
        let schema = try #require(((me["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
        #expect((schema["anyOf"] as? [Any])?.count == 2)
    }
}
