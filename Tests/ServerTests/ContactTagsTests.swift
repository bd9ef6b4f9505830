@testable import BridgeServer
import Foundation
import GRDB
import Testing
@testable import UniversalInbox

/// A contact's own tags (issue 10: the contact panel shows identities, custom fields, tags, earlier
/// tickets and satisfaction answers): set through `PATCH /contacts/{id}`, kept when contacts are
/// linked, logged for the pages that show the contact, and reachable by campaign audiences.
@Suite struct ContactTagsTests {
    /// The contact of the ticket a new LINE customer opens by writing.
    func newContact(_ t: TestBridge, _ user: String, writes text: String) async throws -> Int64 {
        try await t.api.contactId(ofTicket: try await t.customerWrites(user, text))
    }

    @Test func tagsAreAddedAndRemovedAllOrNothing() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let contact = try await newContact(t, "Utag00000000000000000000000000001", writes: "Hello")
            #expect(try await api.contact(contact).tags == [])

            let added = try await api.updateContact(contact, .init(addTags: ["  VIP ", "wholesale", "vip"]))
            #expect(added.tags == ["vip", "wholesale"])
            #expect(try await api.contact(contact).tags == ["vip", "wholesale"])

            // A refused tag refuses the whole change: the name and the other tag stay as they were.
            for bad in ["", " ", String(repeating: "x", count: 51)] {
                let refused = try await api.failure(of: await api.updateContact(contact, .init(displayName: "Renamed", addTags: ["new", bad])))
                #expect(refused.status == 400, "\(refused)")
                #expect(refused.code == "invalid_tag", "\(refused)")
            }
            // Not a list: malformed, so sent as it is.
            #expect(try await api.raw(.PATCH, "/api/v1/contacts/\(contact)", json: #"{"addTags":"vip"}"#).status == 400)
            let after = try await api.contact(contact)
            #expect(after.tags == ["vip", "wholesale"])
            #expect(after.displayName != "Renamed")

            let removed = try await api.updateContact(contact, .init(addTags: ["late payer"], removeTags: ["WHOLESALE", "never-there"]))
            #expect(removed.tags == ["late payer", "vip"])
            // Added and removed at once: removed.
            #expect(try await api.updateContact(contact, .init(addTags: ["x"], removeTags: ["x"])).tags == ["late payer", "vip"])
            #expect(try await api.failure(of: await api.updateContact(999, .init(addTags: ["vip"]))).status == 404)
        }
    }

    /// Another agent's page showing the contact beside one of its tickets learns of the change
    /// from the ordered log; a closed ticket gets no entry.
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aTagChangeIsLoggedForTheContactsOpenTickets() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let first = try await t.customerWrites("Utag00000000000000000000000000002", "First question")
            let contact = try await api.contactId(ofTicket: first)
            try await t.bridge.inbox.database.pool.write { db in
                try db.execute(sql: "UPDATE tickets SET status = 'closed' WHERE id = ?", arguments: [first])
            }
            _ = try await t.customerWrites("Utag00000000000000000000000000002", "Another question")
            let open = try #require(try await api.ticketIds("contact=\(contact)&status=new").first)
            #expect(open != first)
            let head = try await api.events(after: 0).head

            _ = try await api.updateContact(contact, .init(addTags: ["vip"]))
            let tagged = try await api.events(after: head).events
            #expect(tagged.map(\.type) == [.ticketUpdated])
            #expect(tagged.map(\.ticketId) == [open])

            let next = try #require(tagged.last?.seq)
            _ = try await api.updateContact(contact, .init(removeTags: ["vip"]))
            #expect(try await api.events(after: next).events.map(\.ticketId) == [open])
        }
    }

    /// Linking two contacts keeps what the business knew about the absorbed one.
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func linkingKeepsTheAbsorbedContactsTagsEmailAndFields() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            _ = try await api.createField(.init(scope: "contact", key: "tier", label: "Tier", type: "text"))
            let keep = try await newContact(t, "Utag00000000000000000000000000003", writes: "On LINE")
            let absorb = try await newContact(t, "Utag00000000000000000000000000004", writes: "Also me")
            _ = try await api.updateContact(keep, .init(addTags: ["vip"]))
            _ = try await api.updateContact(absorb, .init(email: "kim@example.com", fields: ["tier": "gold"], addTags: ["wholesale", "vip"]))

            let linked = try await api.link(keep, absorbing: absorb)
            #expect(linked.tags == ["vip", "wholesale"])
            #expect(linked.email == "kim@example.com")
            #expect(linked.fields == ["tier": "gold"])
            #expect(try await api.failure(of: await api.contact(absorb)).status == 404)
            let orphans = try await t.bridge.inbox.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM contact_tags WHERE contact_id = ?", arguments: [absorb])
            }
            #expect(orphans == 0)
        }
    }

    /// A campaign to `tags` reaches a contact tagged so, as well as one whose ticket is.
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func campaignAudiencesMatchContactTags() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let tagged = try await newContact(t, "Utag00000000000000000000000000005", writes: "Hi")
            let ticket = try await t.customerWrites("Utag00000000000000000000000000006", "Hello")
            let viaTicket = try await api.contactId(ofTicket: ticket)
            _ = try await newContact(t, "Utag00000000000000000000000000007", writes: "Hey")
            _ = try await api.updateContact(tagged, .init(addTags: ["vip"]))
            _ = try await api.updateTicket(ticket, .init(addTags: ["vip"]))

            let id = try await api.createCampaign(.init(name: "VIP", audience: .init(tags: ["VIP"]), content: .init(text: "x"))).id
            let recipients: [Int64] = try await t.bridge.inbox.database.pool.write { db in
                var audience = CampaignAudience()
                audience.tags = ["VIP"]
                try Inbox.resolveAudience(db, campaignId: id, audience: audience, channel: nil, now: Date().ms)
                return try Int64.fetchAll(db, sql: "SELECT contact_id FROM campaign_recipients WHERE campaign_id = ? ORDER BY contact_id", arguments: [id])
            }
            #expect(recipients == [tagged, viaTicket].sorted())
        }
    }
}
