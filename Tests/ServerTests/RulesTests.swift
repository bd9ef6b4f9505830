@testable import BridgeServer
import ChannelKit
import Foundation
import GRDB
import PlatformStandIns
import TestSupport
import Testing
import UniversalInbox

/// Rules (triggers, conditions, actions, order, stop, no loops) and business hours.
@Suite struct RulesTests {
    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    func history(_ t: TestBridge, _ ticket: some BinaryInteger) async throws -> [(kind: String, actor: String)] {
        try await t.get("/api/v1/tickets/\(ticket)/history").items.map { ($0["kind"] as? String ?? "", $0["actor"] as? String ?? "") }
    }

    /// A department condition on a ticket without a department does not hold (it used to read the
    /// NULL column as a number and trap, taking the bridge down; schemathesis found it).
    @Test func aDepartmentConditionOnATicketWithoutOneDoesNotHold() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let billing = try await t.addDepartment("Billing")
            let conditioned = #"{"name":"Billing only","trigger":"ticket_created","conditions":{"departmentId":\#(billing)},"actions":[{"type":"add_tag","tag":"billing"}]}"#
            #expect(try await t.postJSON("/api/v1/rules", conditioned).status == 201)
            #expect(try await t.postJSON("/api/v1/rules", #"{"name":"All","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"seen"}]}"#).status == 201)
            let ticket = try await t.customerWrites(Self.user(1), "hello")
            try await t.eventually("the rules ran") { try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["seen"] }
            #expect(try await t.get("/health", token: nil).status == 200)
        }
    }

    @Test func rulesRunInOrderAndStop() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let billing = try await t.addDepartment("Billing")
            let ann = try await t.addAgent("Ann")
            #expect(try await t.postJSON("/api/v1/rules", #"{"name":"x","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"a"}]}"#, token: ann.token).status == 403)
            let refund = try await t.postJSON("/api/v1/rules", #"""
                {"name":"Refunds to billing","trigger":"ticket_created","conditions":{"channels":["line"],"textContains":"REFUND"},
                 "actions":[{"type":"add_tag","tag":"refund"},{"type":"set_priority","priority":"high"},{"type":"assign_department","departmentId":\#(billing)}],
                 "stop":true}
                """#)
            #expect(refund.status == 201)
            let refundId = try #require(refund.json["id"] as? Int)
            _ = try await t.postJSON("/api/v1/rules", #"{"name":"Everything else","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"general"}]}"#)

            let refundTicket = try await t.customerWrites(Self.user(1), "I want a refund please")
            let other = try await t.customerWrites(Self.user(2), "hello")
            try await t.eventually("rules ran on both") {
                let general = try await t.get("/api/v1/tickets/\(other)").json["tags"] as? [String] == ["general"]
                let routed = try await t.get("/api/v1/tickets/\(refundTicket)").json["departmentId"] as? Int64 == billing
                return general && routed
            }
            let ticket = try await t.get("/api/v1/tickets/\(refundTicket)").json
            #expect(ticket["tags"] as? [String] == ["refund"])  // the second rule did not run: the first stops
            #expect(ticket["priority"] as? String == "high")
            #expect(try await history(t, refundTicket).allSatisfy { $0.actor == "rule:\(refundId)" })

            // Order: move "Everything else" first; now it runs before the refund rule too.
            let ids = try await t.get("/api/v1/rules").items.compactMap { $0["id"] as? Int }
            let reordered = try await t.request(.PUT, "/api/v1/rules/order", body: Data(#"{"ids":\#(Array(ids.reversed()))}"#.utf8))
            #expect(reordered.items.compactMap { $0["name"] as? String } == ["Everything else", "Refunds to billing"])
            let third = try await t.customerWrites(Self.user(3), "refund for order 9")
            try await t.eventually("both rules ran") { try await t.get("/api/v1/tickets/\(third)").json["tags"] as? [String] == ["general", "refund"] }
            #expect(try await t.request(.PUT, "/api/v1/rules/order", body: Data(#"{"ids":[\#(ids[0])]}"#.utf8)).errorCode == "invalid_order")

            for (body, code) in [
                (#"{"name":"a","trigger":"ticket_created","actions":[]}"#, "no_actions"),
                (#"{"name":"a","trigger":"ticket_created","conditions":{"textMatches":"("},"actions":[{"type":"add_tag","tag":"x"}]}"#, "invalid_regex"),
                (#"{"name":"a","trigger":"time_passed","actions":[{"type":"add_tag","tag":"x"}]}"#, "invalid_time_rule"),
                (#"{"name":"a","trigger":"ticket_created","actions":[{"type":"reply"}]}"#, "invalid_action"),
            ] {
                #expect(try await t.postJSON("/api/v1/rules", body).errorCode == code, "\(body)")
            }
            #expect(try await t.postJSON("/api/v1/rules", #"{"name":"a","trigger":"whenever","actions":[]}"#).errorCode == "invalid_json")
        }
    }

    @Test func replyOnAMessageAndStatusRulesNeverLoop() async throws {
        try await TestBridge.with(standIns: [.whatsapp]) { t in
            _ = try await t.postJSON("/api/v1/canned-responses", ##"{"shortcut":"#track","text":"Hi {{contact.name}}, track it at example.com/track"}"##)
            _ = try await t.postJSON("/api/v1/rules", #"""
                {"name":"Order numbers","trigger":"message_received","conditions":{"textMatches":"order\\s*#?\\d+"},"actions":[{"type":"reply","canned":"#track"}]}
                """#)
            // Two rules that would ping-pong forever if rules fed themselves: pending → open → pending → ...
            let bounce = try #require(try await t.postJSON("/api/v1/rules", #"""
                {"name":"Bounce","trigger":"status_changed","conditions":{"status":"pending"},"actions":[{"type":"set_status","status":"open"},{"type":"add_tag","tag":"bounced"}]}
                """#).json["id"] as? Int)
            let back = try #require(try await t.postJSON("/api/v1/rules", #"""
                {"name":"Back to pending","trigger":"status_changed","conditions":{"status":"open"},"actions":[{"type":"set_status","status":"pending"}]}
                """#).json["id"] as? Int)

            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.RULE1", "Where is order #4711?"))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            try await t.eventually("the rule's reply sent") { t.whatsapp.requests.count == 1 }
            #expect(t.whatsapp.requests.first?.text.contains("Hi Ana, track it at example.com/track") == true)
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.RULE2", "thanks"))
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"pending"}"#).status == 200)
            try await t.eventually("the bounce rule ran") { try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["bounced"] }
            try await t.eventually("the second rule ran") { try await history(t, ticket).filter { $0.kind == "status" }.count >= 3 }
            // A window that can only hide a rule running again, never invent one.
            try await Task.sleep(for: .milliseconds(500))
            // For the agent's change each rule ran once, in order (the second sees the first's result),
            // and neither ran again on what the other did.
            let entries = try await history(t, ticket)
            #expect(entries.filter { $0.kind == "status" }.map(\.actor) == ["admin token", "rule:\(bounce)", "rule:\(back)"])
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "pending")
            #expect(t.whatsapp.requests.count == 1)
        }
    }

    @Test func templatesFallBackWhenAValueIsUnknown() {
        #expect(TemplateText.fill("Hi {{contact.name|there}}, {{agent.name}}", ["agent.name": "Ann"]) == "Hi there, Ann")
        #expect(TemplateText.fill("Hi {{ contact.name | there }}!", ["contact.name": "Kenji"]) == "Hi Kenji!")
        #expect(TemplateText.fill("{{a}}{{b|}}", [:]) == "")
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func timePassedRulesFireOncePerIdlePeriod() async throws {
        let clock = ManualClock()
        try await TestBridge.with(standIns: [.line], clock: clock) { t in
            _ = try await t.postJSON("/api/v1/rules", #"""
                {"name":"Close stale pending","trigger":"time_passed","afterSeconds":1,"conditions":{"status":"pending"},"actions":[{"type":"set_status","status":"resolved"},{"type":"set_priority","priority":"low"}]}
                """#)
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"pending"}"#)
            let vet: @Sendable (ReplyTarget) -> SendError? = { _ in nil }
            #expect(try await t.bridge.inbox.runTimeRules(vet: vet) == 0)  // not idle long enough yet
            clock.advance(by: 1.5)
            // The rules worker runs time rules too: whichever run gets there first, the rule fires once.
            try await t.eventually("the rule fired") {
                _ = try await t.bridge.inbox.runTimeRules(vet: vet)
                return try await t.get("/api/v1/tickets/\(ticket)").json["status"] as? String == "resolved"
            }
            #expect(try await t.bridge.inbox.runTimeRules(vet: vet) == 0)
            let after = try await t.get("/api/v1/tickets/\(ticket)").json
            #expect(after["priority"] as? String == "low")
            let runs = try await t.bridge.inbox.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM rule_runs") }
            #expect(runs == 1)
        }
    }

    @Test func aTimeRuleTooLongToComputeIsRefused() async throws {
        try await TestBridge.with { t in
            let rule = #"{"name":"x","trigger":"time_passed","afterSeconds":9223372036854775807,"conditions":{"status":"pending"},"actions":[{"type":"add_tag","tag":"x"}]}"#
            let refused = try await t.postJSON("/api/v1/rules", rule)
            #expect(refused.status == 400)
            #expect(refused.errorCode == "invalid_time_rule")
            #expect(try await t.get("/api/v1/rules").items.isEmpty)
        }
    }

    @Test func notifyAndWebhookActions() async throws {
        let crm = PlatformStandIn()
        try await crm.start()
        defer { Task { await crm.stop() } }
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let hook = try #require(try await t.postJSON("/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/rules","events":["ticket.created"]}"#).json["id"] as? Int)
            _ = try await t.postJSON("/api/v1/rules", #"""
                {"name":"VIP","trigger":"message_received","conditions":{"textContains":"urgent"},
                 "actions":[{"type":"notify","agentIds":[\#(ann.id)],"text":"Urgent message"},{"type":"webhook","webhookId":\#(hook)}]}
                """#)
            let live = try await LiveClient.connect(t, token: ann.token)
            let ticket = try await t.customerWrites(Payloads.lineUser, "This is URGENT")
            let note = try await live.next("notification") { $0["ticketId"] as? Int64 == ticket }
            #expect(note["text"] as? String == "Urgent message")
            try await t.eventually("the rule's webhook delivered") {
                crm.requests(to: "/rules").contains { $0.headers["x-bridge-event"] == "rule.fired" }
            }
            let fired = try #require(crm.requests(to: "/rules").first { $0.headers["x-bridge-event"] == "rule.fired" }?.json as? [String: Any])
            #expect((fired["data"] as? [String: Any])?["rule"] as? String == "VIP")
            await live.close()
        }
    }

    @Test func businessHoursAcknowledgementAndOutOfHoursReply() async throws {
        try await TestBridge.with(standIns: [.whatsapp]) { t in
            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            let closed = try await t.request(.PUT, "/api/v1/business-hours", body: Data(#"""
                {"timeZone":"UTC","weekly":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]},
                 "holidays":["\#(today)"],"acknowledgement":"Thanks {{contact.name|there}}, we got your message.","outOfHoursReply":"We are closed today; we answer tomorrow."}
                """#.utf8))
            #expect(closed.status == 200)
            _ = try await t.postJSON("/api/v1/rules", #"{"name":"After hours","trigger":"ticket_created","conditions":{"businessHours":"outside"},"actions":[{"type":"add_tag","tag":"after-hours"}]}"#)
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.HOURS1", "hello?"))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            try await t.eventually("both automatic replies sent") { t.whatsapp.requests.count == 2 }
            let texts = try await t.messages(ticket: ticket).filter { $0["direction"] as? String == "out" }.compactMap { $0["text"] as? String }
            #expect(texts == ["Thanks Ana, we got your message.", "We are closed today; we answer tomorrow."])
            // Asked again (a second message, a rerun) they are not sent twice.
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.HOURS2", "hello again"))
            try await Task.sleep(for: .milliseconds(300))
            #expect(t.whatsapp.requests.count == 2)
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["after-hours"])

            // A department open around the clock: its new tickets get only the acknowledgement.
            let support = try await t.addDepartment("Support")
            let allWeek = (["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map { #""\#($0)":[["00:00","24:00"]]"# }).joined(separator: ",")
            #expect(try await t.request(.PUT, "/api/v1/departments/\(support)/hours", body: Data(#"{"timeZone":"Asia/Tokyo","weekly":{\#(allWeek)},"acknowledgement":"Got it!"}"#.utf8)).status == 200)
            #expect(try await t.get("/api/v1/departments/\(support)/hours").json["timeZone"] as? String == "Asia/Tokyo")
            let hours = BusinessHours(timeZone: "Asia/Tokyo", weekly: ["mon": [["09:00", "18:00"]]], holidays: ["2026-11-23"])
            // Monday 2026-11-16 10:00 in Tokyo is 01:00 UTC; the Monday after is a holiday.
            #expect(hours.isOpen(at: Date(timeIntervalSince1970: 1_794_790_800)))
            #expect(!hours.isOpen(at: Date(timeIntervalSince1970: 1_794_790_800 + 9 * 3600)))
            #expect(!hours.isOpen(at: Date(timeIntervalSince1970: 1_794_790_800 + 7 * 86400)))

            for (body, code) in [
                (#"{"timeZone":"Mars/Base","weekly":{}}"#, "invalid_time_zone"), (#"{"timeZone":"UTC","weekly":{"monday":[]}}"#, "invalid_weekday"),
                (#"{"timeZone":"UTC","weekly":{"mon":[["18:00","09:00"]]}}"#, "invalid_period"),
                (#"{"timeZone":"UTC","weekly":{},"holidays":["someday"]}"#, "invalid_holiday"),
            ] {
                #expect(try await t.request(.PUT, "/api/v1/business-hours", body: Data(body.utf8)).errorCode == code, "\(body)")
            }
        }
    }

    /// The feed read again from an earlier position (a crash between acting and moving the cursor,
    /// or a second process whose lease overlapped): nothing acts twice. A stop rule that already
    /// ran still ends the run, so the rule after it does not run on the replay.
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aReplayedFeedActsOnce() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            #expect(try await t.request(.PUT, "/api/v1/business-hours", body: Data(#"{"timeZone":"UTC","weekly":{},"acknowledgement":"Got it"}"#.utf8)).status == 200)
            _ = try await t.postJSON("/api/v1/rules", #"{"name":"First","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"first"}],"stop":true}"#)
            _ = try await t.postJSON("/api/v1/rules", #"{"name":"Second","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"second"}]}"#)
            let ticket = try await t.customerWrites(Self.user(1), "hello")
            try await t.eventually("the rules ran and the acknowledgement went out") {
                let outbound = try await t.messages(ticket: ticket).filter { $0["direction"] as? String == "out" }
                return try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["first"] && outbound.count == 1
            }
            try await t.bridge.inbox.database.pool.write { db in try db.execute(sql: "UPDATE feed_cursors SET last_id = 0 WHERE name = 'rules.log'") }
            _ = try await t.bridge.inbox.runRules(vet: { _ in nil })
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["first"])
            let outbound = try await t.messages(ticket: ticket).filter { $0["direction"] as? String == "out" }.compactMap { $0["text"] as? String }
            #expect(outbound == ["Got it"])
            #expect(try await history(t, ticket).filter { $0.kind == "acknowledgement" }.count == 1)
        }
    }
}
