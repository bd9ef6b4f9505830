@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// The People page's channel routing and department hours through the REST API: a channel
/// account's new tickets open in the department chosen for it and go to that department's agents
/// only; a department's own hours can be removed so the default hours apply again.
@Suite struct AccountRoutingTests {
    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    @Test func aChannelAccountsNewTicketsGoToItsDepartmentsAgents() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let sales = try await t.addDepartment("Sales")
            // Ann has the lower id: without a route, a new ticket would go to her.
            let ann = try await t.addAgent("Ann", availability: "online")
            let bob = try await t.addAgent("Bob", departments: [sales], availability: "online")

            // Bad input changes nothing: an unknown department, an unknown account, no departmentId.
            let unknownDepartment = try await api.raw(.PUT, "/api/v1/channel-accounts/line/main/department", json: #"{"departmentId":999}"#)
            #expect(unknownDepartment.status == 422 && unknownDepartment.errorCode == "no_such_department")
            let unknownAccount = try await api.raw(.PUT, "/api/v1/channel-accounts/line/nowhere/department", json: "{\"departmentId\":\(sales)}")
            #expect(unknownAccount.status == 404)
            let noKey = try await api.raw(.PUT, "/api/v1/channel-accounts/line/main/department", json: "{}")
            #expect(noKey.status == 400 && noKey.errorCode == "invalid_json")
            #expect(try await api.raw(.GET, "/api/v1/departments").items.map { $0["accounts"] as? [String] } == [[]])

            let routed = try await api.raw(.PUT, "/api/v1/channel-accounts/line/main/department", json: "{\"departmentId\":\(sales)}")
            #expect(routed.status == 200 && routed.json["key"] as? String == "line/main" && (routed.json["departmentId"] as? Int).map(Int64.init) == sales)
            #expect(try await api.raw(.GET, "/api/v1/departments").items.map { $0["accounts"] as? [String] } == [["line/main"]])
            let listed = try await api.raw(.GET, "/api/v1/channel-accounts").items.first { $0["key"] as? String == "line/main" }
            #expect((listed?["departmentId"] as? Int).map(Int64.init) == sales)

            let first = try await t.customerWrites(Self.user(1), "where is my order")
            #expect(try await api.ticket(first).departmentId == sales)
            try await t.eventually("the routed ticket distributed") { try await api.ticket(first).agentId != nil }
            #expect(try await api.ticket(first).agentId == bob.id)

            // Without the route, the next customer's ticket has no department and goes to Ann.
            let cleared = try await api.raw(.PUT, "/api/v1/channel-accounts/line/main/department", json: #"{"departmentId":null}"#)
            #expect(cleared.status == 200 && cleared.json["departmentId"] == nil)
            let second = try await t.customerWrites(Self.user(2), "hello")
            #expect(try await api.ticket(second).departmentId == nil)
            try await t.eventually("the unrouted ticket distributed") { try await api.ticket(second).agentId != nil }
            #expect(try await api.ticket(second).agentId == ann.id)
            #expect(try await api.ticket(first).departmentId == sales)  // tickets already open stay where they are
        }
    }

    @Test func aDepartmentsOwnHoursCanBeRemoved() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let sales = try await t.addDepartment("Sales")
            #expect(try await api.raw(.DELETE, "/api/v1/departments/\(sales)/hours").status == 404)
            #expect(try await api.raw(.PUT, "/api/v1/business-hours", json: #"{"timeZone":"UTC","weekly":{"mon":[["09:00","17:00"]]}}"#).status == 200)
            #expect(try await api.raw(.PUT, "/api/v1/departments/\(sales)/hours", json: #"{"timeZone":"Asia/Tokyo","weekly":{}}"#).status == 200)
            #expect(try await api.raw(.GET, "/api/v1/departments").items.first?["ownHours"] as? Bool == true)
            #expect(try await api.raw(.GET, "/api/v1/departments/\(sales)/hours").json["timeZone"] as? String == "Asia/Tokyo")
            #expect(try await api.raw(.DELETE, "/api/v1/departments/\(sales)/hours").status == 204)
            #expect(try await api.raw(.GET, "/api/v1/departments").items.first?["ownHours"] as? Bool == false)
            #expect(try await api.raw(.GET, "/api/v1/departments/\(sales)/hours").json["timeZone"] as? String == "UTC")
            #expect(try await api.raw(.DELETE, "/api/v1/departments/999/hours").status == 404)
        }
    }
}
