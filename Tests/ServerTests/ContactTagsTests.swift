@testable import BridgeServer
import Foundation
import GRDB
import Testing
@testable import UniversalInbox

/// A contact's own tags (issue 10: the contact panel shows identities, custom fields, tags, earlier
/// tickets and satisfaction answers): set through `PATCH /contacts/{id}`, kept when contacts are
/// linked, logged for the pages that show the contact, and reachable by campaign audiences.
@Suite struct ContactTagsTests {
    func contactId(_ t: TestBridge, ticket: Int) async throws -> Int {
        try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int)
    }

    func tags(_ t: TestBridge, _ contact: Int) async throws -> [String]? {
        try await t.get("/api/v1/contacts/\(contact)").json["tags"] as? [String]
    }

    @Test func tagsAreAddedAndRemovedAllOrNothing() async throws {
        try await TestBridge.with { t in
            let contact = try await contactId(t, ticket: try await t.customerWrites("Utag00000000000000000000000000001", "Hello"))
            #expect(try await tags(t, contact) == [])

            let added = try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"addTags":["  VIP ","wholesale","vip"]}"#)
            #expect(added.status == 200)
            #expect(added.json["tags"] as? [String] == ["vip", "wholesale"])
            #expect(try await tags(t, contact) == ["vip", "wholesale"])

            // A refused tag refuses the whole change: the name and the other tag stay as they were.
            for bad in ["", " ", String(repeating: "x", count: 51)] {
                let refused = try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"displayName":"Renamed","addTags":["new","\#(bad)"]}"#)
                #expect(refused.status == 400, "\(refused.text)")
                #expect(refused.errorCode == "invalid_tag", "\(refused.text)")
            }
            #expect(try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"addTags":"vip"}"#).status == 400)
            let after = try await t.get("/api/v1/contacts/\(contact)").json
            #expect(after["tags"] as? [String] == ["vip", "wholesale"])
            #expect(after["displayName"] as? String != "Renamed")

            let removed = try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"removeTags":["WHOLESALE","never-there"],"addTags":["late payer"]}"#)
            #expect(removed.json["tags"] as? [String] == ["late payer", "vip"])
            // Added and removed at once: removed.
            #expect(try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"addTags":["x"],"removeTags":["x"]}"#).json["tags"] as? [String] == ["late payer", "vip"])
            #expect(try await t.patchJSON("/api/v1/contacts/999", #"{"addTags":["vip"]}"#).status == 404)
        }
    }

    /// Another agent's page showing the contact beside one of its tickets learns of the change
    /// from the ordered log; a closed ticket gets no entry.
    @Test func aTagChangeIsLoggedForTheContactsOpenTickets() async throws {
        try await TestBridge.with { t in
            let first = try await t.customerWrites("Utag00000000000000000000000000002", "First question")
            let contact = try await contactId(t, ticket: first)
            try await t.bridge.inbox.database.pool.write { db in
                try db.execute(sql: "UPDATE tickets SET status = 'closed' WHERE id = ?", arguments: [first])
            }
            _ = try await t.customerWrites("Utag00000000000000000000000000002", "Another question")
            let open = try #require(try await t.get("/api/v1/tickets?contact=\(contact)&status=new").items.first?["id"] as? Int)
            #expect(open != first)
            let head = try #require(try await t.get("/api/v1/events?after=0").json["head"] as? Int)

            _ = try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"addTags":["vip"]}"#)
            let tagged = try await t.get("/api/v1/events?after=\(head)").json["events"] as? [[String: Any]] ?? []
            #expect(tagged.map { $0["type"] as? String } == ["ticket_updated"])
            #expect(tagged.map { $0["ticketId"] as? Int } == [open])

            let next = try #require(tagged.last?["seq"] as? Int)
            _ = try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"removeTags":["vip"]}"#)
            let untagged = try await t.get("/api/v1/events?after=\(next)").json["events"] as? [[String: Any]] ?? []
            #expect(untagged.map { $0["ticketId"] as? Int } == [open])
        }
    }

    /// Linking two contacts keeps what the business knew about the absorbed one.
    @Test func linkingKeepsTheAbsorbedContactsTagsEmailAndFields() async throws {
        try await TestBridge.with { t in
            #expect(try await t.postJSON("/api/v1/fields", #"{"scope":"contact","key":"tier","label":"Tier","type":"text"}"#).status == 201)
            let keep = try await contactId(t, ticket: try await t.customerWrites("Utag00000000000000000000000000003", "On LINE"))
            let absorb = try await contactId(t, ticket: try await t.customerWrites("Utag00000000000000000000000000004", "Also me"))
            _ = try await t.patchJSON("/api/v1/contacts/\(keep)", #"{"addTags":["vip"]}"#)
            _ = try await t.patchJSON("/api/v1/contacts/\(absorb)", #"{"addTags":["wholesale","vip"],"email":"kim@example.com","fields":{"tier":"gold"}}"#)

            let linked = try await t.postJSON("/api/v1/contacts/\(keep)/links", #"{"contactId":\#(absorb)}"#)
            #expect(linked.status == 200)
            #expect(linked.json["tags"] as? [String] == ["vip", "wholesale"])
            #expect(linked.json["email"] as? String == "kim@example.com")
            #expect(linked.json["fields"] as? [String: String] == ["tier": "gold"])
            #expect(try await t.get("/api/v1/contacts/\(absorb)").status == 404)
            let orphans = try await t.bridge.inbox.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM contact_tags WHERE contact_id = ?", arguments: [absorb])
            }
            #expect(orphans == 0)
        }
    }

    /// A campaign to `tags` reaches a contact tagged so, as well as one whose ticket is.
    @Test func campaignAudiencesMatchContactTags() async throws {
        try await TestBridge.with { t in
            let tagged = try await contactId(t, ticket: try await t.customerWrites("Utag00000000000000000000000000005", "Hi"))
            let ticket = try await t.customerWrites("Utag00000000000000000000000000006", "Hello")
            let viaTicket = try await contactId(t, ticket: ticket)
            _ = try await contactId(t, ticket: try await t.customerWrites("Utag00000000000000000000000000007", "Hey"))
            _ = try await t.patchJSON("/api/v1/contacts/\(tagged)", #"{"addTags":["vip"]}"#)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"addTags":["vip"]}"#)

            let id = try #require(try await t.postJSON("/api/v1/campaigns", #"{"name":"VIP","audience":{"tags":["VIP"]},"content":{"text":"x"}}"#).json["id"] as? Int)
            let recipients: [Int] = try await t.bridge.inbox.database.pool.write { db in
                var audience = CampaignAudience()
                audience.tags = ["VIP"]
                try Inbox.resolveAudience(db, campaignId: Int64(id), audience: audience, channel: nil, now: Date().ms)
                return try Int.fetchAll(db, sql: "SELECT contact_id FROM campaign_recipients WHERE campaign_id = ? ORDER BY contact_id", arguments: [id])
            }
            #expect(recipients == [tagged, viaTicket].sorted())
        }
    }
}
