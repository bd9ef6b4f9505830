@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// `POST /api/v1/tickets/counts`: the counts beside the views, each as the list would find it
/// for the caller.
@Suite struct ViewCountsTests {
    @Test func eachFilterCountsWhatTheListFindsForTheCaller() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let admin = t.api
            let sales = try await t.addDepartment("Sales")
            let billing = try await t.addDepartment("Billing")
            let ann = t.api(as: try await t.addAgent("Ann"))
            let samLogin = try await t.addAgent("Sam", departments: [sales])
            let sam = t.api(as: samLogin)
            _ = try await admin.updateAgent(samLogin.id, .init(departmentsOnly: true))
            let first = try await t.customerWrites(Payloads.lineUser, "order")
            let second = try await t.customerWrites("U00000000000000000000000000000077", "invoice")
            let third = try await t.customerWrites("U00000000000000000000000000000078", "hello")
            _ = try await admin.transfer(first, department: sales)
            _ = try await ann.claim(first)
            _ = try await admin.transfer(second, department: billing)
            _ = try await admin.updateTicket(second, .init(status: "pending"))
            _ = try await admin.updateTicket(third, .init(addTags: ["vip"]))
            let view = try await ann.saveView(name: "VIP", filter: "tag=vip").id

            let filters = [
                "all": "", "mine": "view=mine", "unassigned": "view=unassigned", "pending": "status=pending", "sales": "department=\(sales)",
                "billing": "department=\(billing)", "vip": "view=\(view)", "line high": "channel=line&priority=high", "paged": "status=new&limit=1&cursor=x",
            ]
            let got = try await ann.counts(filters)
            #expect(got == ["all": 3, "mine": 1, "unassigned": 2, "pending": 1, "sales": 1, "billing": 1, "vip": 1, "line high": 0, "paged": 1])
            // The same as the list finds.
            for (key, filter) in filters where key != "paged" {
                #expect(try await ann.tickets("limit=200&" + filter).items.count == got[key], "\(key)")
            }

            // `status=active` is what is still being worked: a resolved ticket leaves Unassigned and All.
            _ = try await admin.updateTicket(third, .init(status: "resolved"))
            let active = ["all": "status=active", "unassigned": "view=unassigned&status=active", "resolved": "status=resolved"]
            #expect(try await ann.counts(active) == ["all": 2, "unassigned": 1, "resolved": 1])
            #expect(try await ann.ticketIds("status=active").sorted() == [first, second].sorted())

            // A restricted agent counts only what it may read: Sales and its own.
            #expect(try await sam.counts(["all": "", "pending": "status=pending", "billing": "department=\(billing)"]) == ["all": 1, "pending": 0, "billing": 0])
            #expect(try await sam.counts([:]) == [:])
        }
    }

    @Test func aBadFilterIsRefusedWithItsKeyNamed() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = t.api(as: try await t.addAgent("Ann"))
            _ = try await t.customerWrites(Payloads.lineUser, "order")
            let bad = try await ann.failure(of: await ann.counts(["ok": "status=open", "broken": "status=sleeping"]))
            #expect(bad.status == 422)
            #expect(bad.message.contains("filters.broken"), "\(bad)")
            let unknownView = try await ann.failure(of: await ann.counts(["gone": "view=999"]))
            #expect(unknownView.status == 422)
            #expect(unknownView.message.contains("filters.gone"))
            let search = try await ann.failure(of: await ann.counts(["words": "q=parcel"]))
            #expect(search.code == "uncountable_filter")
            #expect(search.message.contains("filters.words"))
            let tooMany = Dictionary(uniqueKeysWithValues: (0...50).map { ("k\($0)", "") })
            #expect(try await ann.failure(of: await ann.counts(tooMany)).code == "too_many_filters")
            _ = try await ann.counts(Dictionary(uniqueKeysWithValues: (1...50).map { ("k\($0)", "") }))
            let admin = try await t.api.failure(of: await t.api.counts(["mine": "view=mine"]))
            #expect(admin.status == 403)
            #expect(admin.code == "not_an_agent")
            // Malformed: a filter that is not text, no filters at all.
            #expect(try await ann.raw(.POST, "/api/v1/tickets/counts", json: #"{"filters":{"a":3}}"#).status == 400)
            #expect(try await ann.raw(.POST, "/api/v1/tickets/counts", json: "{}").status == 400)
        }
    }
}
