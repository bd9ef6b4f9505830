@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Canned responses and forbidden words, through the REST API.
@Suite struct ReplyToolsTests {
    @Test func cannedResponsesWithVariablesForAgentsAndDepartments() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let ann = try await t.addAgent("Ann", departments: [sales])
            let bob = try await t.addAgent("Bob")
            _ = try await t.postJSON("/api/v1/fields", #"{"key":"order","label":"Order","type":"number"}"#)
            #expect(try await t.postJSON(
                "/api/v1/canned-responses", ##"{"shortcut":"#thanks","text":"Thanks {{contact.name}}! — {{agent.name}}"}"##).status == 201)
            #expect(try await t.postJSON(
                "/api/v1/canned-responses",
                ##"{"shortcut":"#order","text":"Order {{ticket.field.order}} ships today, {{contact.name}}.","departmentId":\##(sales)}"##).status == 201)
            // Bob keeps his own wording of #thanks.
            #expect(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"thanks","text":"Cheers {{contact.name}}"}"#, token: bob.token).status == 201)
            #expect(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"x","text":"Hi {{contact.nickname}}"}"#).errorCode == "unknown_variable")
            #expect(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"Has Space","text":"x"}"#).errorCode == "invalid_shortcut")
            #expect(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"y","text":"x","mine":false}"#, token: bob.token).status == 403)

            let ticket = try await t.customerWrites(Payloads.lineUser, "where is my order")
            try await t.eventually("the customer's name from LINE's profile API") {
                (try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["displayName"] as? String == "Kenji"
            }
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"order":"4711"}}"#)
            let annList = try await t.get("/api/v1/canned-responses?ticketId=\(ticket)", token: ann.token).items
            #expect(annList.compactMap { $0["rendered"] as? String }.sorted() == ["Order 4711 ships today, Kenji.", "Thanks Kenji! — Ann"])
            let bobList = try await t.get("/api/v1/canned-responses?ticketId=\(ticket)", token: bob.token).items
            // Not in Sales: no #order; his own #thanks and the global one.
            #expect(bobList.compactMap { $0["shortcut"] as? String } == ["thanks", "thanks"])
            // Each is filled in as it is: his own wording and the global one, not one of them twice.
            #expect(bobList.compactMap { $0["rendered"] as? String }.sorted() == ["Cheers Kenji", "Thanks Kenji! — Bob"])
            // The admin token sees every agent's own responses too (one with a shortcut nobody else
            // has among them), each filled in.
            #expect(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"sig","text":"Ann at your service"}"#, token: ann.token).status == 201)
            let everything = try await t.get("/api/v1/canned-responses?ticketId=\(ticket)")
            #expect(everything.status == 200)
            #expect(everything.items.compactMap { $0["rendered"] as? String }.sorted() == [
                "Ann at your service", "Cheers Kenji", "Order 4711 ships today, Kenji.", "Thanks Kenji! — admin token",
            ])

            let sent = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", ##"{"canned":"#thanks"}"##, token: bob.token)
            #expect(sent.status == 202)
            #expect(sent.json["text"] as? String == "Cheers Kenji")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", ##"{"canned":"#order"}"##, token: bob.token).errorCode == "no_such_canned_response")
            let annSent = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", ##"{"canned":"#order"}"##, token: ann.token)
            #expect(annSent.json["text"] as? String == "Order 4711 ships today, Kenji.")
        }
    }

    @Test func forbiddenWordsNeedAnExplicitOverride() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            #expect(try await t.postJSON("/api/v1/forbidden-words", #"{"word":"guarantee"}"#, token: ann.token).status == 403)
            for word in ["guarantee", "damn", "バカ"] {
                #expect(try await t.postJSON("/api/v1/forbidden-words", #"{"word":"\#(word)"}"#).status == 201)
            }
            let check = try await t.postJSON(
                "/api/v1/forbidden-words/check", #"{"text":"We Guarantee delivery, damn it. Not in 'damned' or 'guaranteed'. あなたはバカです"}"#, token: ann.token)
            let matches = check.json["matches"] as? [[String: Any]] ?? []
            #expect(matches.compactMap { $0["word"] as? String } == ["guarantee", "damn", "バカ"])
            #expect(matches.first?["start"] as? Int == 3)
            #expect(matches.first?["end"] as? Int == 12)

            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let refused = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"I guarantee it"}"#, token: ann.token)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "forbidden_words")
            #expect((refused.json["matches"] as? [[String: Any]])?.count == 1)
            #expect(try await t.messages(ticket: ticket).count == 1)
            let overridden = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"I guarantee it","allowForbidden":true}"#, token: ann.token)
            #expect(overridden.status == 202)

            let removed = try await t.request(.DELETE, "/api/v1/forbidden-words/guarantee")
            #expect(removed.json["items"] as? [String] == ["バカ", "damn"] || removed.json["items"] as? [String] == ["damn", "バカ"])
            #expect(try await t.request(.DELETE, "/api/v1/forbidden-words/guarantee").status == 404)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"I guarantee it"}"#, token: ann.token).status == 202)
        }
    }
}
