@testable import BridgeServer
import Foundation
import TestSupport
import Testing

/// What the console's Automation section needs beyond adding rules: changing a rule in place (and
/// turning it off and on) and trying the rules against a ticket without changing it.
@Suite struct RuleEditingTests {
    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    @Test func aChangedRuleKeepsItsPlaceAndAnInactiveOneDoesNotRun() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let first = try #require(try await t.postJSON(
                "/api/v1/rules", #"{"name":"Refunds","trigger":"message_received","actions":[{"type":"add_tag","tag":"old"}]}"#).json["id"] as? Int)
            _ = try await t.postJSON("/api/v1/rules", #"{"name":"Second","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"second"}]}"#)
            let changed = try await t.request(.PUT, "/api/v1/rules/\(first)", body: Data(#"""
                {"name":"Refunds, changed","trigger":"message_received","conditions":{"textContains":"refund"},
                 "actions":[{"type":"add_tag","tag":"refund"}],"active":false}
                """#.utf8))
            #expect(changed.status == 200)
            #expect(changed.json["position"] as? Int == 1)
            #expect(changed.json["active"] as? Bool == false)
            #expect(try await t.get("/api/v1/rules").items.compactMap { $0["name"] as? String } == ["Refunds, changed", "Second"])

            // Off: the customer's message does not tag the ticket (the active second rule shows the rules ran).
            let ticket = try await t.customerWrites(Self.user(1), "a refund please")
            try await t.eventually("the second rule ran") { try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["second"] }

            // On again: the next message is tagged.
            let on = try await t.request(.PUT, "/api/v1/rules/\(first)", body: Data(#"""
                {"name":"Refunds, changed","trigger":"message_received","conditions":{"textContains":"refund"},"actions":[{"type":"add_tag","tag":"refund"}]}
                """#.utf8))
            #expect(on.json["active"] as? Bool == true)
            _ = try await t.customerWrites(Self.user(1), "still waiting for my refund")
            try await t.eventually("the rule ran") { try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["refund", "second"] }

            // Bad input changes nothing; no such rule is a 404.
            let bad = try await t.request(.PUT, "/api/v1/rules/\(first)", body: Data(#"{"name":"x","trigger":"ticket_created","actions":[]}"#.utf8))
            #expect(bad.errorCode == "no_actions")
            #expect(try await t.get("/api/v1/rules").items.first?["name"] as? String == "Refunds, changed")
            let missing = try await t.request(.PUT, "/api/v1/rules/99999", body: Data(#"{"name":"x","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"x"}]}"#.utf8))
            #expect(missing.status == 404)
        }
    }

    @Test func aTrialShowsWhichRulesWouldFireAndChangesNothing() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Self.user(2), "I want a REFUND")
            let rules = [
                #"{"name":"Refunds","trigger":"message_received","conditions":{"textContains":"refund"},"actions":[{"type":"add_tag","tag":"refund"}],"stop":true}"#,
                #"{"name":"Everything","trigger":"message_received","actions":[{"type":"add_tag","tag":"all"}]}"#,
                #"{"name":"Off","trigger":"message_received","actions":[{"type":"add_tag","tag":"off"}],"active":false}"#,
                #"{"name":"Sales","trigger":"message_received","conditions":{"textContains":"price"},"actions":[{"type":"add_tag","tag":"sales"}]}"#,
                #"{"name":"New","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"new"}]}"#,
            ]
            for rule in rules { #expect(try await t.postJSON("/api/v1/rules", rule).status == 201) }
            let before = try await t.get("/api/v1/tickets/\(ticket)").json
            let trial = try await t.postJSON("/api/v1/rules/test", #"{"ticketId":\#(ticket),"trigger":"message_received"}"#)
            #expect(trial.status == 200)
            let verdicts = trial.items.map { "\($0["name"] as? String ?? ""):\($0["matches"] as? Bool == true):\($0["fires"] as? Bool == true)" }
            #expect(verdicts == ["Refunds:true:true", "Everything:true:false", "Off:true:false", "Sales:false:false"])
            #expect(trial.items.first?["stops"] as? Bool == true)
            let history = try await t.get("/api/v1/tickets/\(ticket)/history").items.count
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == before["tags"] as? [String])
            #expect(try await t.get("/api/v1/tickets/\(ticket)/history").items.count == history)

            #expect(try await t.postJSON("/api/v1/rules/test", #"{"ticketId":999999,"trigger":"message_received"}"#).status == 404)
            #expect(try await t.postJSON("/api/v1/rules/test", #"{"ticketId":\#(ticket),"trigger":"whenever"}"#).status == 400)
        }
    }
}
