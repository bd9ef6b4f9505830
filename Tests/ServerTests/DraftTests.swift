@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Drafts on the server: one per agent per ticket, only where the agent may read, used up by the
/// send of their mode, and staying with the ticket they were written on.
@Suite struct DraftTests {
    func put(_ t: TestBridge, _ ticket: Int, _ json: String, token: String?) async throws -> TestBridge.Reply {
        try await t.request(.PUT, "/api/v1/tickets/\(ticket)/draft", body: Data(json.utf8), headers: [("Content-Type", "application/json")], token: token)
    }

    @Test func aDraftFollowsTheAgentAndStaysOnItsTicket() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my parcel?")
            let other = try await t.customerWrites("U00000000000000000000000000000077", "another customer")

            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).status == 204)
            let saved = try await put(t, ticket, #"{"text":"Your parcel is","mode":"reply","channel":"line/main"}"#, token: ann.token)
            #expect(saved.status == 200)
            #expect(saved.json["text"] as? String == "Your parcel is")
            #expect(saved.json["channel"] as? String == "line/main")
            #expect(saved.json["updatedAt"] as? String != nil)

            // Another device of Ann's (another token) sees it; Bob and other tickets do not.
            let second = try #require(try await t.postJSON("/api/v1/agents/\(ann.id)/tokens", #"{"label":"laptop"}"#).json["token"] as? String)
            let there = try await t.get("/api/v1/tickets/\(ticket)/draft", token: second)
            #expect(there.status == 200)
            #expect(there.json["text"] as? String == "Your parcel is")
            #expect(there.json["mode"] as? String == "reply")
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: bob.token).status == 204)
            #expect(try await t.get("/api/v1/tickets/\(other)/draft", token: ann.token).status == 204)

            // PUT replaces (channel null: the customer's last channel).
            let note = try await put(t, ticket, #"{"text":"VIP customer","mode":"note","channel":null}"#, token: ann.token)
            #expect(note.status == 200)
            #expect(note.json.keys.contains("channel") && note.json["channel"] is NSNull)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).json["mode"] as? String == "note")

            // Bad input changes nothing.
            #expect(try await put(t, ticket, #"{"text":"x","channel":"whatsapp/main"}"#, token: ann.token).errorCode == "no_such_channel")
            #expect(try await put(t, ticket, #"{"text":"x","channel":"fax/main"}"#, token: ann.token).status == 400)
            #expect(try await put(t, ticket, #"{"text":"x","mode":"email"}"#, token: ann.token).status == 400)
            let tooLong = try await put(t, ticket, #"{"text":"\#(String(repeating: "あ", count: 4097))"}"#, token: ann.token)
            #expect(tooLong.status == 400)
            #expect(try await put(t, ticket, #"{"text":"\#(String(repeating: "あ", count: 4096))"}"#, token: bob.token).status == 200)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).json["text"] as? String == "VIP customer")

            // The admin token has no drafts; no draft on a ticket that does not exist.
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft").errorCode == "not_an_agent")
            #expect(try await put(t, ticket, #"{"text":"x"}"#, token: TestBridge.adminToken).errorCode == "not_an_agent")
            #expect(try await t.get("/api/v1/tickets/999999/draft", token: ann.token).status == 404)

            // Empty text deletes; so does DELETE.
            #expect(try await put(t, ticket, #"{"text":""}"#, token: ann.token).status == 204)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).status == 204)
            _ = try await put(t, ticket, #"{"text":"again"}"#, token: ann.token)
            #expect(try await t.request(.DELETE, "/api/v1/tickets/\(ticket)/draft", token: ann.token).status == 204)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).status == 204)
        }
    }

    @Test func onlyOnTicketsTheAgentMayRead() async throws {
        try await TestBridge.with { t in
            let sales = try await t.addDepartment("Sales")
            let billing = try await t.addDepartment("Billing")
            let sam = try await t.addAgent("Sam", departments: [sales])
            _ = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#)
            let ticket = try await t.customerWrites(Payloads.lineUser, "invoice")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(billing)}"#)
            #expect(try await put(t, ticket, #"{"text":"peek"}"#, token: sam.token).status == 403)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: sam.token).status == 403)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(sales)}"#)
            #expect(try await put(t, ticket, #"{"text":"now mine to read"}"#, token: sam.token).status == 200)
        }
    }

    @Test func sendingUsesUpTheDraftOfItsMode() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await put(t, ticket, #"{"text":"Hi there","mode":"reply"}"#, token: ann.token)
            // A note does not use up a reply draft.
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"a note"}"#, token: ann.token).status == 201)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).json["text"] as? String == "Hi there")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"Hi there"}"#, token: ann.token).status == 202)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).status == 204)

            _ = try await put(t, ticket, #"{"text":"call back","mode":"note"}"#, token: ann.token)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"More?"}"#, token: ann.token).status == 202)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).json["text"] as? String == "call back")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"called back"}"#, token: ann.token).status == 201)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).status == 204)

            // A refused send keeps the draft (nothing was sent).
            _ = try await put(t, ticket, #"{"text":"kept"}"#, token: ann.token)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"x","channel":"whatsapp"}"#, token: ann.token).status == 422)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/draft", token: ann.token).json["text"] as? String == "kept")
        }
    }

    @Test func draftsOfAMergedTicketStayWithIt() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let first = try await t.customerWrites(Payloads.lineUser, "my order is late")
            let messages = try await t.messages(ticket: first)
            _ = try await t.customerWrites(Payloads.lineUser, "still late")
            let lastId = try #require(try await t.messages(ticket: first).last?["id"] as? Int)
            #expect(messages.count == 1)
            let split = try #require(try await t.postJSON("/api/v1/tickets/\(first)/split", #"{"messageIds":[\#(lastId)]}"#).json["id"] as? Int)
            _ = try await put(t, split, #"{"text":"for the split ticket"}"#, token: ann.token)
            #expect(try await t.postJSON("/api/v1/tickets/\(first)/merge", #"{"ticketIds":[\#(split)]}"#).status == 200)
            #expect(try await t.get("/api/v1/tickets/\(split)/draft", token: ann.token).json["text"] as? String == "for the split ticket")
            #expect(try await t.get("/api/v1/tickets/\(first)/draft", token: ann.token).status == 204)
        }
    }
}
