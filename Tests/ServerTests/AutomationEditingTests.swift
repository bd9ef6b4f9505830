@testable import BridgeServer
import Foundation
import NIOHTTP1
import Testing

/// The console's Automation edits: a canned response edited in place (who may is who may delete),
/// a custom field deleted unless a rule or a view uses it, and the spam threshold set in the
/// database and followed by the screening without a restart.
@Suite struct AutomationEditingTests {
    func put(_ t: TestBridge, _ path: String, _ json: String, token: String? = TestBridge.adminToken) async throws -> TestBridge.Reply {
        try await t.request(.PUT, path, body: Data(json.utf8), headers: [("Content-Type", "application/json")], token: token)
    }

    /// A canned response as the list shows it: shortcut, title, text, department.
    func canned(_ t: TestBridge, _ id: Int) async throws -> String? {
        try await t.get("/api/v1/canned-responses").items.first { $0["id"] as? Int == id }.map {
            "\($0["shortcut"] ?? "") \($0["title"] ?? "") \($0["text"] ?? "") \($0["departmentId"] ?? "global")"
        }
    }

    @Test func aCannedResponseIsEditedByWhoMayDeleteIt() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let ann = try await t.addAgent("Ann")
            let thanks = try #require(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"thanks","text":"Thanks!","mine":false}"#).json["id"] as? Int)
            _ = try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"bye","text":"Bye!","mine":false}"#)
            let annsOwn = try #require(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"hi","text":"Hi!"}"#, token: ann.token).json["id"] as? Int)
            let before = try #require(try await canned(t, thanks))

            // An agent may not edit a shared one, and nothing changes.
            let refused = try await t.patchJSON("/api/v1/canned-responses/\(thanks)", #"{"text":"Mine now"}"#, token: ann.token)
            #expect(refused.status == 403 && refused.errorCode == "not_yours")
            // Checked as on creation, nothing changed on error.
            let taken = try await t.patchJSON("/api/v1/canned-responses/\(thanks)", ##"{"shortcut":"#bye","text":"Changed"}"##)
            #expect(taken.status == 409 && taken.errorCode == "shortcut_taken")
            let nowhere = try await t.patchJSON("/api/v1/canned-responses/\(thanks)", #"{"departmentId":999,"text":"Changed"}"#)
            #expect(nowhere.status == 422 && nowhere.errorCode == "no_such_department")
            let variable = try await t.patchJSON("/api/v1/canned-responses/\(thanks)", #"{"text":"Hi {{nope}}"}"#)
            #expect(variable.status == 422 && variable.errorCode == "unknown_variable")
            #expect(try await t.patchJSON("/api/v1/canned-responses/999999", #"{"text":"x"}"#).status == 404)
            #expect(try await canned(t, thanks) == before)

            // An owner or admin edits a shared one: into a department, then global again.
            let edited = try await t.patchJSON(
                "/api/v1/canned-responses/\(thanks)", ##"{"shortcut":"#bye","title":"Farewell","text":"Thank you, {{contact.name|friend}}","departmentId":\##(sales)}"##)
            #expect(edited.status == 200)
            #expect(edited.json["shortcut"] as? String == "bye" && edited.json["departmentId"] as? Int == Int(sales) && edited.json["title"] as? String == "Farewell")
            let global = try await t.patchJSON("/api/v1/canned-responses/\(thanks)", #"{"shortcut":"thanks","departmentId":null}"#)
            #expect(global.status == 200 && global.json["departmentId"] == nil && global.json["text"] as? String == "Thank you, {{contact.name|friend}}")

            // An agent edits its own, which stays in no department.
            let own = try await t.patchJSON("/api/v1/canned-responses/\(annsOwn)", #"{"text":"Hello there"}"#, token: ann.token)
            #expect(own.status == 200 && own.json["text"] as? String == "Hello there" && own.json["agentId"] as? Int == Int(ann.id))
            let placed = try await t.patchJSON("/api/v1/canned-responses/\(annsOwn)", #"{"departmentId":\#(sales)}"#, token: ann.token)
            #expect(placed.status == 422 && placed.errorCode == "invalid_department")

            // The composer uses the edited text.
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let rendered = try await t.get("/api/v1/canned-responses?ticketId=\(ticket)", token: ann.token).items.first { $0["id"] as? Int == thanks }
            #expect((rendered?["rendered"] as? String)?.hasPrefix("Thank you, ") == true)
        }
    }

    @Test func aFieldInUseIsNotDeletedAndADeletedOneTakesItsValues() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let tier = try #require(try await t.postJSON("/api/v1/fields", #"{"scope":"contact","key":"tier","label":"Tier","type":"text"}"#).json["id"] as? Int)
            let order = try #require(try await t.postJSON("/api/v1/fields", #"{"key":"order_no","label":"Order","type":"text"}"#).json["id"] as? Int)
            let rule = try #require(try await t.postJSON("/api/v1/rules", #"""
                {"name":"Gold first","trigger":"ticket_created","conditions":{"contactFields":{"tier":"gold"}},"actions":[{"type":"set_priority","priority":"high"}]}
                """#).json["id"] as? Int)
            let view = try #require(try await t.postJSON("/api/v1/views", #"{"name":"Order A-1","filter":"status=open&field.order_no=A-1","shared":true}"#).json["id"] as? Int)
            let ticket = try await t.customerWrites(Payloads.lineUser, "where is my order")
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"order_no":"A-1"}}"#).status == 200)

            #expect(try await t.request(.DELETE, "/api/v1/fields/\(order)", token: ann.token).status == 403)
            let usedByRule = try await t.request(.DELETE, "/api/v1/fields/\(tier)")
            #expect(usedByRule.status == 409 && usedByRule.errorCode == "field_in_use")
            #expect(usedByRule.errorMessage?.contains("rule \"Gold first\"") == true)
            let usedByView = try await t.request(.DELETE, "/api/v1/fields/\(order)")
            #expect(usedByView.status == 409 && usedByView.errorCode == "field_in_use")
            #expect(usedByView.errorMessage?.contains("view \"Order A-1\"") == true)
            #expect(try await t.get("/api/v1/fields").items.count == 2)

            #expect(try await t.request(.DELETE, "/api/v1/rules/\(rule)").status == 204)
            #expect(try await t.request(.DELETE, "/api/v1/views/\(view)").status == 204)
            #expect(try await t.request(.DELETE, "/api/v1/fields/\(tier)").status == 204)
            #expect(try await t.request(.DELETE, "/api/v1/fields/\(order)").status == 204)
            #expect(try await t.request(.DELETE, "/api/v1/fields/\(order)").status == 404)
            #expect(try await t.get("/api/v1/fields").items.isEmpty)
            let fields = try await t.get("/api/v1/tickets/\(ticket)").json["fields"] as? [String: Any]
            #expect(fields?.isEmpty ?? true)
            let gone = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"order_no":"A-2"}}"#)
            #expect(gone.status == 422 && gone.errorCode == "unknown_field")
        }
    }

    /// Trained with one spam and one genuine ticket, a mixed message scores between the two
    /// thresholds the test sets: screened under the higher it stays in the queue, under the lower
    /// (set while the bridge runs) the same text goes to the spam box.
    @Test func theSpamThresholdSetInTheConsoleDecidesTheScreening() async throws {
        try await TestBridge.with(standIns: [.line], configure: { $0.spam = .init(threshold: 0.95, minimumTraining: 1) }) { t in
            let ann = try await t.addAgent("Ann")
            #expect(try await put(t, "/api/v1/spam", #"{"threshold":0.9}"#, token: ann.token).status == 403)
            for bad in [#"{"threshold":0.5}"#, #"{"threshold":1.01}"#, #"{"threshold":0}"#] {
                let reply = try await put(t, "/api/v1/spam", bad)
                #expect(reply.status == 422 && reply.errorCode == "invalid_threshold", "\(bad)")
            }
            #expect(try await put(t, "/api/v1/spam", "{}").status == 400)
            let fresh = try await t.get("/api/v1/spam").json
            #expect(fresh["threshold"] as? Double == 0.95 && fresh["configuredThreshold"] as? Double == 0.95 && fresh["thresholdSource"] as? String == "config")

            let spamText = "WIN a FREE prize now, click bit.ly/x to claim your prize"
            let mixedText = "click to claim your FREE prize, my kettle"
            _ = try await t.api.markSpam(try await t.customerWrites("U" + String(format: "%032d", 1), spamText))
            _ = try await t.api.markSpam(try await t.customerWrites("U" + String(format: "%032d", 2), "Where is my order? The kettle I received is damaged"), false)
            let mixed = try #require(try await t.bridge.inbox.spamProbability(of: mixedText, minimum: 1))
            let sure = try #require(try await t.bridge.inbox.spamProbability(of: spamText, minimum: 1))
            try #require(mixed > 0.5 && mixed < sure, "the mixed text scores \(mixed), the spam text \(sure)")
            let (high, low) = ((mixed + sure) / 2, (0.5 + mixed) / 2)

            let set = try await put(t, "/api/v1/spam", #"{"threshold":\#(high)}"#).json
            #expect(abs((set["threshold"] as? Double ?? 0) - high) < 1e-9 && set["thresholdSource"] as? String == "console" && set["configuredThreshold"] as? Double == 0.95)
            let kept = try await t.customerWrites("U" + String(format: "%032d", 3), mixedText)
            // Screening goes oldest first: once this later, surer one is in the spam box, `kept` was screened.
            let sentinel = try await t.customerWrites("U" + String(format: "%032d", 4), spamText)
            try await t.eventually("the spam text screened as spam") { try await t.api.ticket(sentinel).status == .spam }
            #expect(try await t.api.ticket(kept).status != .spam)

            #expect(try await put(t, "/api/v1/spam", #"{"threshold":\#(low)}"#).status == 200)
            let flagged = try await t.customerWrites("U" + String(format: "%032d", 5), mixedText)
            try await t.eventually("the same text screened as spam under the lower threshold") { try await t.api.ticket(flagged).status == .spam }

            let back = try await put(t, "/api/v1/spam", #"{"threshold":null}"#).json
            #expect(back["threshold"] as? Double == 0.95 && back["thresholdSource"] as? String == "config")
        }
    }
}
