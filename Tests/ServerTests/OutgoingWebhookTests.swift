@testable import BridgeServer
import ChannelKit
import Foundation
import PlatformStandIns
import Testing
import UniversalInbox

/// Outgoing webhooks to a CRM: signed, durable, retried.
@Suite struct OutgoingWebhookTests {
    static let secret = "crm-test-webhook-secret-0123"

    @Test func ticketAndMessageEventsAreSignedAndRetried() async throws {
        let crm = PlatformStandIn()
        try await crm.start()
        defer { Task { await crm.stop() } }
        // The CRM is down for the first two deliveries.
        crm.script("/hooks/bridge", [.json(#"{"error":"down"}"#, status: 503), .json(#"{"error":"down"}"#, status: 500)])
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            #expect(try await t.postJSON("/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/hooks"}"#, token: ann.token).status == 403)
            #expect(try await t.postJSON("/api/v1/webhooks", #"{"url":"ftp://x"}"#).errorCode == "invalid_url")
            #expect(try await t.postJSON("/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/x","events":["ticket.deleted"]}"#).errorCode == "invalid_event")
            let created = try await t.postJSON(
                "/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/hooks/bridge","secret":"\#(Self.secret)","events":["ticket.created","ticket.updated","message.created"]}"#)
            #expect(created.status == 201)
            let hookId = try #require(created.json["id"] as? Int)
            #expect(try await t.get("/api/v1/webhooks").items.first?["secret"] == nil)  // shown once

            // Back to back: the feed follows the event log, so however the steps fall into feed
            // passes, they are queued (and delivered, one at a time per webhook) in the order they happened.
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my order?")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"Shipped today"}"#, token: ann.token)

            try await t.eventually("four events delivered to the CRM", timeout: .seconds(20)) {
                let deliveries = try await t.get("/api/v1/webhooks/\(hookId)/deliveries").items
                return deliveries.count == 4 && deliveries.allSatisfy { $0["status"] as? String == "delivered" }
            }
            let requests = crm.requests(to: "/hooks/bridge")
            #expect(requests.count == 6)  // two failures, then four deliveries
            var events: [String] = []
            for request in requests {
                let timestamp = try #require(request.headers["x-bridge-timestamp"])
                let signature = try #require(request.headers["x-bridge-signature"])
                var signed = Data("\(timestamp).".utf8)
                signed.append(request.body)
                #expect(signature == "sha256=" + Signatures.hmacSHA256Hex(secret: Self.secret, body: signed))
                let json = try #require(request.json as? [String: Any])
                #expect(json["event"] as? String == request.headers["x-bridge-event"])
                events.append(request.headers["x-bridge-event"] ?? "")
            }
            let delivered = Dictionary(grouping: requests, by: { $0.headers["x-bridge-delivery"] ?? "" }).values.compactMap(\.last)
                .sorted { Int($0.headers["x-bridge-delivery"] ?? "") ?? 0 < Int($1.headers["x-bridge-delivery"] ?? "") ?? 0 }
            let summary = delivered.map { request -> String in
                let json = request.json as? [String: Any] ?? [:]
                let data = json["data"] as? [String: Any] ?? [:]
                // A new ticket is described as it is when the feed reads it (here "new", or "open" once claimed).
                return "\(json["event"] as? String ?? "") \(data["kind"] as? String ?? data["direction"] as? String ?? (data["status"] == nil ? "" : "ticket"))"
            }
            #expect(summary == ["ticket.created ticket", "message.created in", "ticket.updated assigned", "message.created out"])
            // Arrival order is the log's order too (the first delivery's retries come before the rest).
            let arrived = requests.compactMap { $0.headers["x-bridge-delivery"] }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
            #expect(arrived == delivered.compactMap { $0.headers["x-bridge-delivery"] })

            let deliveries = try await t.get("/api/v1/webhooks/\(hookId)/deliveries").items
            #expect(deliveries.count == 4)
            #expect(deliveries.allSatisfy { $0["status"] as? String == "delivered" })
            #expect(deliveries.map { $0["attempts"] as? Int ?? 0 }.reduce(0, +) == 6)
            #expect(try await t.request(.DELETE, "/api/v1/webhooks/\(hookId)").status == 204)
            #expect(try await t.get("/api/v1/webhooks").items.isEmpty)
        }
    }

    @Test func aRefusingReceiverFailsTheDeliveryWithTheReason() async throws {
        let crm = PlatformStandIn { _, _ in .json(#"{"error":"no such hook"}"#, status: 404) }
        try await crm.start()
        defer { Task { await crm.stop() } }
        try await TestBridge.with(standIns: [.line]) { t in
            let hook = try #require(try await t.postJSON("/api/v1/webhooks", #"{"url":"\#(crm.baseURL)/gone","events":["ticket.created"]}"#).json["id"] as? Int)
            _ = try await t.customerWrites(Payloads.lineUser, "hi")
            try await t.eventually("the delivery failed") { try await t.get("/api/v1/webhooks/\(hook)/deliveries").items.first?["status"] as? String == "failed" }
            let delivery = try await t.get("/api/v1/webhooks/\(hook)/deliveries").items.first
            #expect(delivery?["attempts"] as? Int == 1)
            #expect((delivery?["lastError"] as? String)?.contains("404") == true)
            #expect(crm.requests.count == 1)
        }
    }
}
