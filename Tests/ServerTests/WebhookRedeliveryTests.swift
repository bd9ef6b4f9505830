@testable import BridgeServer
import ChannelKit
import Foundation
import PlatformStandIns
import Testing
import UniversalInbox

/// Sending a webhook delivery again (the console's Redeliver button): the same event and body under
/// a new delivery id, delivered like any other; only owners and admins; only the webhook's own.
@Suite struct WebhookRedeliveryTests {
    @Test func aDeliveryIsSentAgainWithTheSameBody() async throws {
        let crm = PlatformStandIn()
        try await crm.start()
        defer { Task { await crm.stop() } }
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let hookId = try #require(try await t.postJSON(
                "/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/hooks","events":["ticket.created"]}"#).json["id"] as? Int)
            let other = try #require(try await t.postJSON("/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/other","events":["ticket.created"]}"#).json["id"] as? Int)
            _ = try await t.customerWrites(Payloads.lineUser, "hello")
            try await t.eventually("the first delivery", timeout: .seconds(20)) {
                try await t.get("/api/v1/webhooks/\(hookId)/deliveries").items.first?["status"] as? String == "delivered"
            }
            let first = try #require(try await t.get("/api/v1/webhooks/\(hookId)/deliveries").items.first?["id"] as? Int)

            #expect(try await t.postJSON("/api/v1/webhooks/\(hookId)/deliveries/\(first)/redeliver", "{}", token: ann.token).status == 403)
            #expect(try await t.postJSON("/api/v1/webhooks/\(other)/deliveries/\(first)/redeliver", "{}").status == 404)
            #expect(try await t.get("/api/v1/webhooks/\(hookId)/deliveries").items.count == 1)

            #expect(try await t.postJSON("/api/v1/webhooks/\(hookId)/deliveries/\(first)/redeliver", "{}").status == 202)
            try await t.eventually("the copy delivered", timeout: .seconds(20)) {
                let items = try await t.get("/api/v1/webhooks/\(hookId)/deliveries").items
                return items.count == 2 && items.allSatisfy { $0["status"] as? String == "delivered" }
            }
            let requests = crm.requests(to: "/hooks")
            #expect(requests.count == 2)
            #expect(requests.map(\.body).allSatisfy { $0 == requests.first?.body })
            #expect(Set(requests.compactMap { $0.headers["x-bridge-delivery"] }).count == 2)
            #expect(requests.map { $0.headers["x-bridge-event"] } == ["ticket.created", "ticket.created"])
        }
    }
}
