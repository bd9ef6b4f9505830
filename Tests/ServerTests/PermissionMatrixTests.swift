@testable import BridgeServer
import Foundation
import NIOHTTP1
import Testing
import UniversalInbox

/// Who may do what: every settings operation refused to an agent (and changing nothing), allowed to
/// an admin; saved views per agent.
@Suite struct PermissionMatrixTests {
    @Test func agentsCannotChangeAnySettingAdminsCan() async throws {
        try await TestBridge.with { t in
            let admin = try await t.addAgent("Ada", role: "admin")
            let agent = try await t.addAgent("Carl")
            let other = try await t.addAgent("Dora")
            let department = try await t.addDepartment("Sales")
            let hook = try #require(try await t.postJSON("/api/v1/webhooks", #"{"url":"http://127.0.0.1:9/x"}"#).json["id"] as? Int)
            let rule = try #require(try await t.postJSON("/api/v1/rules", #"{"name":"r","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"x"}]}"#).json["id"] as? Int)
            _ = try await t.postJSON("/api/v1/forbidden-words", #"{"word":"darn"}"#)
            let hours = #"{"timeZone":"UTC","weekly":{"mon":[["09:00","17:00"]]}}"#
            let settings: [(HTTPMethod, String, String)] = [
                (.POST, "/api/v1/agents", #"{"email":"new@example.com","name":"New"}"#),
                (.PATCH, "/api/v1/agents/\(other.id)", #"{"maxTickets":9}"#),
                (.POST, "/api/v1/agents/\(other.id)/tokens", "{}"),
                (.POST, "/api/v1/departments", #"{"name":"Support"}"#),
                (.POST, "/api/v1/fields", #"{"key":"plan","label":"Plan","type":"text"}"#),
                (.POST, "/api/v1/canned-responses", #"{"shortcut":"hi","text":"Hi","mine":false}"#),
                (.POST, "/api/v1/forbidden-words", #"{"word":"heck"}"#),
                (.DELETE, "/api/v1/forbidden-words/darn", ""),
                (.GET, "/api/v1/webhooks", ""),
                (.POST, "/api/v1/webhooks", #"{"url":"http://127.0.0.1:9/y"}"#),
                (.GET, "/api/v1/webhooks/\(hook)/deliveries", ""),
                (.DELETE, "/api/v1/webhooks/\(hook)", ""),
                (.PUT, "/api/v1/rules/order", #"{"ids":[\#(rule)]}"#),
                (.DELETE, "/api/v1/rules/\(rule)", ""),
                (.POST, "/api/v1/rules", #"{"name":"r2","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"y"}]}"#),
                (.PUT, "/api/v1/business-hours", hours),
                (.PUT, "/api/v1/departments/\(department)/hours", hours),
                (.GET, "/api/v1/reports/agents?from=2026-01-01&to=2026-12-31", ""),
                (.GET, "/api/v1/reports/channels?from=2026-01-01&to=2026-12-31", ""),
                (.POST, "/api/v1/views", #"{"name":"VIP","filter":"tag=vip","shared":true}"#),
            ]
            func snapshot() async throws -> String {
                var parts: [String] = []
                for path in ["/api/v1/agents", "/api/v1/departments", "/api/v1/fields", "/api/v1/canned-responses", "/api/v1/forbidden-words", "/api/v1/webhooks", "/api/v1/rules", "/api/v1/views"] {
                    parts.append(try await t.get(path).text)
                }
                parts.append(try await t.get("/api/v1/business-hours").text)
                return parts.joined(separator: "\n")
            }
            let before = try await snapshot()
            for (method, path, body) in settings {
                let reply = try await t.request(method, path, body: body.isEmpty ? nil : Data(body.utf8), headers: [("Content-Type", "application/json")], token: agent.token)
                #expect(reply.status == 403, "agent: \(method) \(path)")
                #expect(["admins_only", "owners_only"].contains(reply.errorCode ?? ""), "agent: \(method) \(path)")
            }
            #expect(try await snapshot() == before)  // nothing changed
            for (method, path, body) in settings {
                let reply = try await t.request(method, path, body: body.isEmpty ? nil : Data(body.utf8), headers: [("Content-Type", "application/json")], token: admin.token)
                #expect((200..<300).contains(reply.status), "admin: \(method) \(path) → \(reply.status) \(reply.text)")
            }
        }
    }

    @Test func savedViewsPerAgentAndShared() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let vip = try await t.customerWrites("U00000000000000000000000000000091", "hi")
            _ = try await t.customerWrites("U00000000000000000000000000000092", "hello")
            _ = try await t.patchJSON("/api/v1/tickets/\(vip)", #"{"addTags":["vip"],"priority":"high"}"#)
            let saved = try await t.postJSON("/api/v1/views", #"{"name":"My VIPs","filter":"tag=vip&priority=high"}"#, token: ann.token)
            #expect(saved.status == 201)
            let id = try #require(saved.json["id"] as? Int)
            #expect(try await t.get("/api/v1/tickets?view=\(id)", token: ann.token).items.compactMap { $0["id"] as? Int64 } == [vip])
            // The request's own parameters narrow a saved view.
            #expect(try await t.get("/api/v1/tickets?view=\(id)&status=closed", token: ann.token).items.isEmpty)
            // Bob does not have Ann's view.
            #expect(try await t.get("/api/v1/tickets?view=\(id)", token: bob.token).errorCode == "invalid_view")
            let names = try await t.get("/api/v1/views", token: ann.token).items.compactMap { $0["name"] as? String }
            #expect(names == ["Unassigned", "Mine", "My pending", "Spam", "My VIPs"])
            #expect(try await t.postJSON("/api/v1/views", #"{"name":"Bad","filter":"status=nope"}"#, token: ann.token).errorCode == "invalid_status")
            #expect(try await t.request(.DELETE, "/api/v1/views/\(id)", token: bob.token).status == 403)
            #expect(try await t.request(.DELETE, "/api/v1/views/\(id)", token: ann.token).status == 204)
        }
    }
}
