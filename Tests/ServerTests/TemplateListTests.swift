@testable import BridgeServer
import ChannelKit
import Foundation
import PlatformStandIns
import TestSupport
import Testing
import WhatsAppChannel

/// `GET /api/v1/channels/{channel}/templates`: the WhatsApp Business Account's approved templates,
/// read from the Graph API (the WhatsApp stand-in), paged, cached per account, errors as 502.
@Suite struct TemplateListTests {
    static let waba = "102290129340398"
    static let listPath = "/v21.0/\(waba)/message_templates"

    /// The test bridge with the WhatsApp account's business account id set.
    static func withBusinessAccount(_ config: inout BridgeConfig) {
        config.channels = config.channels.map {
            guard case .whatsapp(var whatsapp) = $0 else { return $0 }
            whatsapp.businessAccountId = waba
            return .whatsapp(whatsapp)
        }
    }

    static func templates(_ reply: TestBridge.Reply) -> [[String: Any]] { reply.json["templates"] as? [[String: Any]] ?? [] }

    static func page(_ names: [String], next: String?) -> PlatformStandIn.Reply {
        let data = names.map {
            #"{"name":"\#($0)","language":"en_US","status":"APPROVED","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}}"}]}"#
        }.joined(separator: ",")
        let paging = next.map { #","paging":{"cursors":{"after":"x"},"next":"\#($0)"}"# } ?? ""
        return .json(#"{"data":[\#(data)]\#(paging)}"#)
    }

    @Test func listsTheApprovedTemplatesTheBridgeCanSend() async throws {
        try await TestBridge.with(standIns: [.whatsapp], configure: Self.withBusinessAccount) { t in
            let agent = try await t.addAgent("Tomo")
            let reply = try await t.get("/api/v1/channels/whatsapp/templates", token: agent.token)
            #expect(reply.status == 200, "\(reply.text)")
            let templates = Self.templates(reply)
            // The image-header and named-parameter templates need more than body text: not offered.
            #expect(templates.map { $0["name"] as? String } == ["order_shipped", "hello_world"])
            let shipped = try #require(templates.first)
            #expect(shipped["language"] as? String == "en_US")
            #expect(shipped["category"] as? String == "UTILITY")
            #expect(shipped["body"] as? String == "Your order {{1}} has shipped and arrives on {{2}}.")
            #expect(shipped["parameters"] as? Int == 2)
            #expect(templates.last?["parameters"] as? Int == 0)

            let asked = try #require(t.whatsapp.requests(to: Self.listPath).first)
            #expect(asked.method == "GET")
            #expect(asked.headers["authorization"] == "Bearer wa-test-token")
            #expect(asked.path.contains("status=APPROVED"))
            #expect(asked.path.contains("fields=name,language,status,category,parameter_format,components"))
            #expect(asked.path.contains("limit="))
            // The account may be named by id or by the key a ticket's replyWindows carry.
            #expect(try await t.get("/api/v1/channels/whatsapp/templates?account=whatsapp/main", token: agent.token).status == 200)
            #expect(try await t.get("/api/v1/channels/whatsapp/templates?account=other", token: agent.token).status == 404)
        }
    }

    @Test func followsPagingOnTheGraphHostOnly() async throws {
        try await TestBridge.with(standIns: [.whatsapp], configure: Self.withBusinessAccount) { t in
            let base = t.whatsapp.baseURL
            t.whatsapp.script(Self.listPath, [
                Self.page(["first_a", "first_b"], next: "\(base)\(Self.listPath)?after=p2&limit=2"),
                Self.page(["second"], next: "\(base)\(Self.listPath)?after=p3&limit=2"),
                // A next page elsewhere would get the access token: not followed.
                Self.page(["third"], next: "http://203.0.113.9\(Self.listPath)?after=p4"),
            ])
            let reply = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(Self.templates(reply).map { $0["name"] as? String } == ["first_a", "first_b", "second", "third"])
            let asked = t.whatsapp.requests(to: Self.listPath).map(\.path)
            #expect(asked.count == 3)
            #expect(asked.dropFirst().map { $0.contains("after=") } == [true, true])
        }
    }

    @Test func keepsTheListAFewMinutesPerAccount() async throws {
        let clock = ManualClock()
        try await TestBridge.with(standIns: [.whatsapp], clock: clock, configure: Self.withBusinessAccount) { t in
            let first = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(first.status == 200)
            clock.advance(by: 60)
            let cached = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(Self.templates(cached).count == 2)
            #expect(t.whatsapp.requests(to: Self.listPath).count == 1)
            clock.advance(by: TemplateCache.lifetime)
            let fresh = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(fresh.status == 200)
            #expect(t.whatsapp.requests(to: Self.listPath).count == 2)
        }
    }

    @Test func metaRefusingIsA502WithItsReasonAndNeverTheToken() async throws {
        try await TestBridge.with(standIns: [.whatsapp], configure: Self.withBusinessAccount) { t in
            t.whatsapp.script(Self.listPath, [
                .json(
                    #"{"error":{"message":"Malformed access token wa-test-token","type":"OAuthException","code":190,"fbtrace_id":"AbC"}}"#,
                    status: 401),
                .json(#"{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2}}"#, status: 503),
            ])
            let refused = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(refused.status == 502)
            #expect(refused.errorCode == "platform_error")
            #expect(refused.errorMessage?.contains("Malformed access token") == true)
            #expect(!refused.text.contains("wa-test-token"))

            let down = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(down.status == 502)
            #expect(down.errorMessage?.contains("Service temporarily unavailable") == true)
            // Failures are not kept: the next call asks Meta again and gets the list.
            let after = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(after.status == 200)
            #expect(t.whatsapp.requests(to: Self.listPath).count == 3)
        }
    }

    @Test func withoutABusinessAccountIdTheAnswerSaysWhatToConfigure() async throws {
        try await TestBridge.with(standIns: [.whatsapp]) { t in
            let reply = try await t.get("/api/v1/channels/whatsapp/templates")
            #expect(reply.status == 409)
            #expect(reply.errorCode == "templates_not_configured")
            #expect(reply.errorMessage?.contains("businessAccountId") == true)
            #expect(t.whatsapp.requests(to: "/v21.0/").filter { $0.path.contains("message_templates") }.isEmpty)

            let line = try await t.get("/api/v1/channels/line/templates")
            #expect(line.status == 422)
            #expect(line.errorCode == "templates_unsupported")
            #expect(try await t.get("/api/v1/channels/fax/templates").status == 400)
            #expect(try await t.get("/api/v1/channels/whatsapp/templates", token: nil).status == 401)
        }
    }
}
