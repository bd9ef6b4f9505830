@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Merge, split, custom fields and contact details, through the REST API.
@Suite struct TicketShapeTests {
    @Test func mergeKeepsEveryMessageInTimeOrderAndClosesTheMergedTicket() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let first = try await t.customerWrites(Payloads.lineUser, "my order is late")
            _ = try await api.updateTicket(first, .init(status: "closed", addTags: ["late"]))
            let second = try await t.customerWrites(Payloads.lineUser, "still late!")
            #expect(second != first)
            _ = try await api.addNote(second, "second note")

            // A closed ticket cannot be the survivor, but it can't be merged in either (it is closed).
            #expect(try await api.failure(of: await api.merge([first], into: second)).code == "ticket_closed")
            let third = try await t.customerWrites(Payloads.lineUser, "hello?")
            #expect(third == second)  // the open ticket takes new messages
            let other = try await t.customerWrites("U00000000000000000000000000000077", "another customer")
            let foreign = try await api.failure(of: await api.merge([other], into: second))
            #expect(foreign.status == 409)
            #expect(foreign.code == "different_contacts")

            // Split the last message off, then merge it back.
            let lastId = try #require(try await api.messages(second).last?.id)
            let split = try await api.split(second, messages: [lastId])
            #expect(try await api.messages(split.id).map(\.text) == ["hello?"])
            #expect(try await api.messages(second).map(\.text) == ["still late!"])
            #expect(try await api.failure(of: await api.split(second, messages: [lastId])).code == "not_in_ticket")
            let only = try #require(try await api.messages(second).first?.id)
            #expect(try await api.failure(of: await api.split(second, messages: [only])).code == "nothing_left")

            _ = try await api.merge([split.id], into: second)
            #expect(try await api.messages(second).map(\.text) == ["still late!", "hello?"])
            let gone = try await api.ticket(split.id)
            #expect(gone.status == .closed)
            #expect(gone.mergedInto == second)
            #expect(try await api.messages(split.id).isEmpty)
            #expect(try await api.failure(of: await api.merge([second], into: second)).code == "merge_into_itself")
            #expect(try await api.history(second).map(\.kind) == ["split", "merged_in"])
            // Replies still reach the customer.
            _ = try await api.reply(second, .init(text: "Sorry, on its way"))
            try await t.eventually("the reply sent") { t.line.requests(to: "/v2/bot/message").count == 1 }
        }
    }

    @Test func customFieldsOnTicketsAndContacts() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let ann = t.api(as: try await t.addAgent("Ann"))
            #expect(try await ann.failure(of: await ann.createField(.init(key: "order", label: "Order", type: "number"))).status == 403)
            for field in [
                BridgeAPI.FieldDefinition(key: "order", label: "Order number", type: "number"), .init(key: "due", label: "Due", type: "date"),
                .init(key: "plan", label: "Plan", type: "select", options: ["free", "pro"]),
                .init(scope: "contact", key: "tier", label: "Tier", type: "select", options: ["gold", "silver"]),
            ] {
                _ = try await api.createField(field)
            }
            #expect(try await api.failure(of: await api.createField(.init(key: "Bad Key", label: "x", type: "text"))).code == "invalid_key")
            #expect(try await api.failure(of: await api.createField(.init(key: "order", label: "again", type: "text"))).code == "key_taken")
            #expect(try await api.failure(of: await api.createField(.init(key: "size", label: "Size", type: "select"))).code == "invalid_options")
            #expect(try await api.fields().count == 4)

            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let other = try await t.customerWrites("U00000000000000000000000000000078", "hi")
            let set = try await ann.updateTicket(ticket, .init(fields: ["order": "4711", "due": "2026-12-01", "plan": "pro"]))
            #expect(set.fields == ["order": "4711", "due": "2026-12-01", "plan": "pro"])
            for (fields, code) in [
                (["order": "many"], "invalid_field_value"), (["due": "tomorrow"], "invalid_field_value"),
                (["plan": "gold"], "invalid_field_value"), (["color": "red"], "unknown_field"),
                (["order": "1", "plan": "gold"], "invalid_field_value"),
            ] as [([String: String?], String)] {
                #expect(try await api.failure(of: await api.updateTicket(ticket, .init(fields: fields))).code == code, "\(fields)")
            }
            // Nothing of a refused change was applied.
            #expect(try await api.ticket(ticket).fields == ["order": "4711", "due": "2026-12-01", "plan": "pro"])
            #expect(try await api.ticketIds("field.plan=pro") == [ticket])
            #expect(try await api.ticketIds("field.plan=free").isEmpty)
            let cleared = try await api.updateTicket(ticket, .init(fields: ["due": nil]))
            #expect(cleared.fields == ["order": "4711", "plan": "pro"])

            let contactId = try await api.contactId(ofTicket: other)
            let contact = try await api.updateContact(contactId, .init(displayName: "Maria Silva", email: "maria@example.com", fields: ["tier": "gold"]))
            #expect(contact.email == "maria@example.com")
            #expect(contact.fields == ["tier": "gold"])
            #expect(try await api.ticketIds("contact=MARIA@example.com") == [other])
            #expect(try await api.ticketIds("contact=\(contactId)") == [other])
            #expect(try await api.ticketIds("contact.tier=gold") == [other])
            #expect(try await api.ticketIds("contact=silva") == [other])
            #expect(try await api.failure(of: await api.updateContact(contactId, .init(email: "nope"))).code == "invalid_email")
            let noEmail = try await api.updateContact(contactId, .init(email: .some(nil)))  // null clears it
            #expect(noEmail.email == nil)
            #expect(noEmail.displayName == "Maria Silva")
        }
    }
}
