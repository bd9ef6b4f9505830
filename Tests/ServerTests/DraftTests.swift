@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Drafts on the server: one per agent per ticket, only where the agent may read, used up by the
/// send of their mode, and staying with the ticket they were written on.
@Suite struct DraftTests {
    @Test func aDraftFollowsTheAgentAndStaysOnItsTicket() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let login = try await t.addAgent("Ann")
            let (admin, ann, bob) = (t.api, t.api(as: login), t.api(as: try await t.addAgent("Bob")))
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my parcel?")
            let other = try await t.customerWrites("U00000000000000000000000000000077", "another customer")

            #expect(try await ann.draft(ticket) == nil)
            let saved = try #require(try await ann.saveDraft(ticket, .init(text: "Your parcel is", mode: "reply", channel: "line/main")))
            #expect(saved.text == "Your parcel is")
            #expect(saved.channel == "line/main")

            // Another device of Ann's (another token) sees it; Bob and other tickets do not.
            let laptop = t.api(token: try await admin.createToken(agent: login.id, label: "laptop").token)
            let there = try #require(try await laptop.draft(ticket))
            #expect(there.text == "Your parcel is")
            #expect(there.mode == .reply)
            #expect(try await bob.draft(ticket) == nil)
            #expect(try await ann.draft(other) == nil)

            // PUT replaces (channel null: the customer's last channel), answered as null, not left out.
            let note = try await ann.raw(.PUT, "/api/v1/tickets/\(ticket)/draft", json: #"{"text":"VIP customer","mode":"note","channel":null}"#)
            #expect(note.status == 200)
            #expect(note.json.keys.contains("channel") && note.json["channel"] is NSNull)
            #expect(try await ann.draft(ticket)?.mode == .note)

            // Bad input changes nothing.
            #expect(try await ann.failure(of: await ann.saveDraft(ticket, .init(text: "x", channel: "whatsapp/main"))).code == "no_such_channel")
            #expect(try await ann.failure(of: await ann.saveDraft(ticket, .init(text: "x", channel: "fax/main"))).status == 400)
            #expect(try await ann.failure(of: await ann.saveDraft(ticket, .init(text: "x", mode: "email"))).status == 400)
            #expect(try await ann.failure(of: await ann.saveDraft(ticket, .init(text: String(repeating: "あ", count: 4097)))).status == 400)
            #expect(try await bob.saveDraft(ticket, .init(text: String(repeating: "あ", count: 4096))) != nil)
            #expect(try await ann.draft(ticket)?.text == "VIP customer")

            // The admin token has no drafts; no draft on a ticket that does not exist.
            #expect(try await admin.failure(of: await admin.draft(ticket)).code == "not_an_agent")
            #expect(try await admin.failure(of: await admin.saveDraft(ticket, .init(text: "x"))).code == "not_an_agent")
            #expect(try await ann.failure(of: await ann.draft(999999)).status == 404)

            // Empty text deletes; so does DELETE.
            #expect(try await ann.saveDraft(ticket, .init(text: "")) == nil)
            #expect(try await ann.draft(ticket) == nil)
            _ = try await ann.saveDraft(ticket, .init(text: "again"))
            try await ann.deleteDraft(ticket)
            #expect(try await ann.draft(ticket) == nil)
        }
    }

    @Test func onlyOnTicketsTheAgentMayRead() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let sales = try await t.addDepartment("Sales")
            let billing = try await t.addDepartment("Billing")
            let login = try await t.addAgent("Sam", departments: [sales])
            let sam = t.api(as: login)
            _ = try await api.updateAgent(login.id, .init(departmentsOnly: true))
            let ticket = try await t.customerWrites(Payloads.lineUser, "invoice")
            _ = try await api.transfer(ticket, department: billing)
            #expect(try await sam.failure(of: await sam.saveDraft(ticket, .init(text: "peek"))).status == 403)
            #expect(try await sam.failure(of: await sam.draft(ticket)).status == 403)
            _ = try await api.transfer(ticket, department: sales)
            #expect(try await sam.saveDraft(ticket, .init(text: "now mine to read")) != nil)
        }
    }

    @Test func sendingUsesUpTheDraftOfItsMode() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = t.api(as: try await t.addAgent("Ann"))
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await ann.saveDraft(ticket, .init(text: "Hi there", mode: "reply"))
            // A note does not use up a reply draft.
            _ = try await ann.addNote(ticket, "a note")
            #expect(try await ann.draft(ticket)?.text == "Hi there")
            _ = try await ann.reply(ticket, .init(text: "Hi there"))
            #expect(try await ann.draft(ticket) == nil)

            _ = try await ann.saveDraft(ticket, .init(text: "call back", mode: "note"))
            _ = try await ann.reply(ticket, .init(text: "More?"))
            #expect(try await ann.draft(ticket)?.text == "call back")
            _ = try await ann.addNote(ticket, "called back")
            #expect(try await ann.draft(ticket) == nil)

            // A refused send keeps the draft (nothing was sent).
            _ = try await ann.saveDraft(ticket, .init(text: "kept"))
            #expect(try await ann.failure(of: await ann.reply(ticket, .init(text: "x", channel: "whatsapp"))).status == 422)
            #expect(try await ann.draft(ticket)?.text == "kept")
        }
    }

    @Test func draftsOfAMergedTicketStayWithIt() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (api, ann) = (t.api, t.api(as: try await t.addAgent("Ann")))
            let first = try await t.customerWrites(Payloads.lineUser, "my order is late")
            let messages = try await api.messages(first)
            _ = try await t.customerWrites(Payloads.lineUser, "still late")
            let lastId = try #require(try await api.messages(first).last?.id)
            #expect(messages.count == 1)
            let split = try await api.split(first, messages: [lastId]).id
            _ = try await ann.saveDraft(split, .init(text: "for the split ticket"))
            _ = try await api.merge([split], into: first)
            #expect(try await ann.draft(split)?.text == "for the split ticket")
            #expect(try await ann.draft(first) == nil)
        }
    }
}
