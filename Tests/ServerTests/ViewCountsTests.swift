@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// `POST /api/v1/tickets/counts`: the counts beside the views, each as the list would find it
/// for the caller.
@Suite struct ViewCountsTests {
    func counts(_ t: TestBridge, _ filters: [String: String], token: String?) async throws -> TestBridge.Reply {
        let body = try JSONSerialization.data(withJSONObject: ["filters": filters])
        return try await t.request(.POST, "/api/v1/tickets/counts", body: body, headers: [("Content-Type", "application/json")], token: token)
    }

    @Test func eachFilterCountsWhatTheListFindsForTheCaller() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let billing = try await t.addDepartment("Billing")
            let ann = try await t.addAgent("Ann")
            let sam = try await t.addAgent("Sam", departments: [sales])
            _ = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#)
            let first = try await t.customerWrites(Payloads.lineUser, "order")
            let second = try await t.customerWrites("U00000000000000000000000000000077", "invoice")
            let third = try await t.customerWrites("U00000000000000000000000000000078", "hello")
            _ = try await t.postJSON("/api/v1/tickets/\(first)/transfer", #"{"departmentId":\#(sales)}"#)
            _ = try await t.postJSON("/api/v1/tickets/\(first)/claim", "{}", token: ann.token)
            _ = try await t.postJSON("/api/v1/tickets/\(second)/transfer", #"{"departmentId":\#(billing)}"#)
            _ = try await t.patchJSON("/api/v1/tickets/\(second)", #"{"status":"pending"}"#)
            _ = try await t.patchJSON("/api/v1/tickets/\(third)", #"{"addTags":["vip"]}"#)
            let view = try #require(try await t.postJSON("/api/v1/views", #"{"name":"VIP","filter":"tag=vip"}"#, token: ann.token).json["id"] as? Int)

            let filters = [
                "all": "", "mine": "view=mine", "unassigned": "view=unassigned", "pending": "status=pending", "sales": "department=\(sales)",
                "billing": "department=\(billing)", "vip": "view=\(view)", "line high": "channel=line&priority=high", "paged": "status=new&limit=1&cursor=x",
            ]
            let reply = try await counts(t, filters, token: ann.token)
            #expect(reply.status == 200, "\(reply.text)")
            let got = try #require(reply.json["counts"] as? [String: Int])
            #expect(got == ["all": 3, "mine": 1, "unassigned": 2, "pending": 1, "sales": 1, "billing": 1, "vip": 1, "line high": 0, "paged": 1])
            // The same as the list finds.
            for (key, filter) in filters where key != "paged" {
                #expect(try await t.get("/api/v1/tickets?limit=200&" + filter, token: ann.token).items.count == got[key], "\(key)")
            }

            // `status=active` is what is still being worked: a resolved ticket leaves Unassigned and All.
            _ = try await t.patchJSON("/api/v1/tickets/\(third)", #"{"status":"resolved"}"#)
            let active = ["all": "status=active", "unassigned": "view=unassigned&status=active", "resolved": "status=resolved"]
            #expect(try await counts(t, active, token: ann.token).json["counts"] as? [String: Int] == ["all": 2, "unassigned": 1, "resolved": 1])
            #expect(try await t.get("/api/v1/tickets?status=active", token: ann.token).items.compactMap { $0["id"] as? Int64 }.sorted() == [first, second].sorted())

            // A restricted agent counts only what it may read: Sales and its own.
            let sams = try await counts(t, ["all": "", "pending": "status=pending", "billing": "department=\(billing)"], token: sam.token)
            #expect(sams.json["counts"] as? [String: Int] == ["all": 1, "pending": 0, "billing": 0])
            #expect(try await counts(t, [:], token: sam.token).json["counts"] as? [String: Int] == [:])
        }
    }

    @Test func aBadFilterIsRefusedWithItsKeyNamed() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            _ = try await t.customerWrites(Payloads.lineUser, "order")
            let bad = try await counts(t, ["ok": "status=open", "broken": "status=sleeping"], token: ann.token)
            #expect(bad.status == 422)
            #expect(bad.errorMessage?.contains("filters.broken") == true, "\(bad.text)")
            let unknownView = try await counts(t, ["gone": "view=999"], token: ann.token)
            #expect(unknownView.status == 422)
            #expect(unknownView.errorMessage?.contains("filters.gone") == true)
            let search = try await counts(t, ["words": "q=parcel"], token: ann.token)
            #expect(search.errorCode == "uncountable_filter")
            #expect(search.errorMessage?.contains("filters.words") == true)
            let tooMany = Dictionary(uniqueKeysWithValues: (0...50).map { ("k\($0)", "") })
            #expect(try await counts(t, tooMany, token: ann.token).errorCode == "too_many_filters")
            #expect(try await counts(t, Dictionary(uniqueKeysWithValues: (1...50).map { ("k\($0)", "") }), token: ann.token).status == 200)
            let admin = try await counts(t, ["mine": "view=mine"], token: TestBridge.adminToken)
            #expect(admin.status == 403)
            #expect(admin.errorCode == "not_an_agent")
            #expect(try await t.postJSON("/api/v1/tickets/counts", #"{"filters":{"a":3}}"#, token: ann.token).status == 400)
            #expect(try await t.postJSON("/api/v1/tickets/counts", "{}", token: ann.token).status == 400)
        }
    }
}
