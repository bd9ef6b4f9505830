@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Merge, split, custom fields and contact details, through the REST API.
@Suite struct TicketShapeTests {
    @Test func mergeKeepsEveryMessageInTimeOrderAndClosesTheMergedTicket() async throws {
        try await TestBridge.with { t in
            let first = try await t.customerWrites(Payloads.lineUser, "my order is late")
            _ = try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"closed","addTags":["late"]}"#)
            let second = try await t.customerWrites(Payloads.lineUser, "still late!")
            #expect(second != first)
            _ = try await t.postJSON("/api/v1/tickets/\(second)/notes", #"{"text":"second note"}"#)

            // A closed ticket cannot be the survivor, but it can't be merged in either (it is closed).
            #expect(try await t.postJSON("/api/v1/tickets/\(second)/merge", #"{"ticketIds":[\#(first)]}"#).errorCode == "ticket_closed")
            let third = try await t.customerWrites(Payloads.lineUser, "hello?")
            #expect(third == second)  // the open ticket takes new messages
            let other = try await t.customerWrites("U00000000000000000000000000000077", "another customer")
            let foreign = try await t.postJSON("/api/v1/tickets/\(second)/merge", #"{"ticketIds":[\#(other)]}"#)
            #expect(foreign.status == 409)
            #expect(foreign.errorCode == "different_contacts")

            // Split the last message off, then merge it back.
            let messages = try await t.messages(ticket: second)
            let lastId = try #require(messages.last?["id"] as? Int)
            let split = try await t.postJSON("/api/v1/tickets/\(second)/split", #"{"messageIds":[\#(lastId)]}"#)
            #expect(split.status == 201)
            let splitId = try #require(split.json["id"] as? Int)
            #expect(try await t.messages(ticket: splitId).compactMap { $0["text"] as? String } == ["hello?"])
            #expect(try await t.messages(ticket: second).compactMap { $0["text"] as? String } == ["still late!"])
            #expect(try await t.postJSON("/api/v1/tickets/\(second)/split", #"{"messageIds":[\#(lastId)]}"#).errorCode == "not_in_ticket")
            let only = try #require(try await t.messages(ticket: second).first?["id"] as? Int)
            #expect(try await t.postJSON("/api/v1/tickets/\(second)/split", #"{"messageIds":[\#(only)]}"#).errorCode == "nothing_left")

            let merged = try await t.postJSON("/api/v1/tickets/\(second)/merge", #"{"ticketIds":[\#(splitId)]}"#)
            #expect(merged.status == 200)
            #expect(try await t.messages(ticket: second).compactMap { $0["text"] as? String } == ["still late!", "hello?"])
            let gone = try await t.get("/api/v1/tickets/\(splitId)").json
            #expect(gone["status"] as? String == "closed")
            #expect(gone["mergedInto"] as? Int == second)
            #expect(try await t.messages(ticket: splitId).isEmpty)
            #expect(try await t.postJSON("/api/v1/tickets/\(second)/merge", #"{"ticketIds":[\#(second)]}"#).errorCode == "merge_into_itself")
            let kinds = try await t.get("/api/v1/tickets/\(second)/history").items.compactMap { $0["kind"] as? String }
            #expect(kinds == ["split", "merged_in"])
            // Replies still reach the customer.
            #expect(try await t.postJSON("/api/v1/tickets/\(second)/messages", #"{"text":"Sorry, on its way"}"#).status == 202)
            try await t.eventually("the reply sent") { t.line.requests(to: "/v2/bot/message").count == 1 }
        }
    }

    @Test func customFieldsOnTicketsAndContacts() async throws {
        try await TestBridge.with { t in
            let agent = try await t.addAgent("Ann")
            #expect(try await t.postJSON("/api/v1/fields", #"{"key":"order","label":"Order","type":"number"}"#, token: agent.token).status == 403)
            for body in [
                #"{"key":"order","label":"Order number","type":"number"}"#, #"{"key":"due","label":"Due","type":"date"}"#,
                #"{"key":"plan","label":"Plan","type":"select","options":["free","pro"]}"#,
                #"{"scope":"contact","key":"tier","label":"Tier","type":"select","options":["gold","silver"]}"#,
            ] {
                #expect(try await t.postJSON("/api/v1/fields", body).status == 201, "\(body)")
            }
            #expect(try await t.postJSON("/api/v1/fields", #"{"key":"Bad Key","label":"x","type":"text"}"#).errorCode == "invalid_key")
            #expect(try await t.postJSON("/api/v1/fields", #"{"key":"order","label":"again","type":"text"}"#).errorCode == "key_taken")
            #expect(try await t.postJSON("/api/v1/fields", #"{"key":"size","label":"Size","type":"select"}"#).errorCode == "invalid_options")
            #expect(try await t.get("/api/v1/fields").items.count == 4)

            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let other = try await t.customerWrites("U00000000000000000000000000000078", "hi")
            let set = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"order":"4711","due":"2026-12-01","plan":"pro"}}"#, token: agent.token)
            #expect(set.json["fields"] as? [String: String] == ["order": "4711", "due": "2026-12-01", "plan": "pro"])
            for (body, code) in [
                (#"{"fields":{"order":"many"}}"#, "invalid_field_value"), (#"{"fields":{"due":"tomorrow"}}"#, "invalid_field_value"),
                (#"{"fields":{"plan":"gold"}}"#, "invalid_field_value"), (#"{"fields":{"color":"red"}}"#, "unknown_field"),
                (#"{"fields":{"order":"1","plan":"gold"}}"#, "invalid_field_value"),
            ] {
                #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", body).errorCode == code, "\(body)")
            }
            // Nothing of a refused change was applied.
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["fields"] as? [String: String] == ["order": "4711", "due": "2026-12-01", "plan": "pro"])
            #expect(try await t.get("/api/v1/tickets?field.plan=pro").items.compactMap { $0["id"] as? Int } == [ticket])
            #expect(try await t.get("/api/v1/tickets?field.plan=free").items.isEmpty)
            let cleared = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"fields":{"due":null}}"#)
            #expect(cleared.json["fields"] as? [String: String] == ["order": "4711", "plan": "pro"])

            let contactId = try #require((try await t.get("/api/v1/tickets/\(other)").json["contact"] as? [String: Any])?["id"] as? Int)
            let contact = try await t.request(
                .PATCH, "/api/v1/contacts/\(contactId)", body: Data(#"{"displayName":"Maria Silva","email":"maria@example.com","fields":{"tier":"gold"}}"#.utf8))
            #expect(contact.json["email"] as? String == "maria@example.com")
            #expect(contact.json["fields"] as? [String: String] == ["tier": "gold"])
            #expect(try await t.get("/api/v1/tickets?contact=MARIA@example.com").items.compactMap { $0["id"] as? Int } == [other])
            #expect(try await t.get("/api/v1/tickets?contact=\(contactId)").items.compactMap { $0["id"] as? Int } == [other])
            #expect(try await t.get("/api/v1/tickets?contact.tier=gold").items.compactMap { $0["id"] as? Int } == [other])
            #expect(try await t.get("/api/v1/tickets?contact=silva").items.compactMap { $0["id"] as? Int } == [other])
            let badEmail = try await t.request(.PATCH, "/api/v1/contacts/\(contactId)", body: Data(#"{"email":"nope"}"#.utf8))
            #expect(badEmail.errorCode == "invalid_email")
            let noEmail = try await t.request(.PATCH, "/api/v1/contacts/\(contactId)", body: Data(#"{"email":null}"#.utf8))
            #expect(noEmail.json["email"] == nil)
            #expect(noEmail.json["displayName"] as? String == "Maria Silva")
        }
    }
}
