import ChannelKit
import Foundation
import MessengerChannel
import PlatformStandIns
import Testing

@Suite struct MessengerOutboundTests {
    let psid = "6543210987654321"
    let path = "/v21.0/1122334455/messages"

    func context(hoursSinceCustomer hours: Double) -> ConversationContext {
        let now = Date()
        return ConversationContext(lastInboundAt: now.addingTimeInterval(-hours * 3600), now: now)
    }

    @Test(arguments: [ChannelKind.messenger, .instagram])
    func responseInsideTheDay(_ kind: ChannelKind) async throws {
        try await withStandIn(StandInPlatforms.messenger()) { standIn, transport in
            let receipt = try await TestAccounts.messenger(kind, apiBaseURL: standIn.baseURL)
                .send(outbound(.text("Following up on ticket #88."), to: psid, context: context(hoursSinceCustomer: 2)), transport: transport)
            let request = try #require(standIn.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == path)
            #expect(request.headers["authorization"] == "Bearer page-test-token")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.text == ##"{"message":{"text":"Following up on ticket #88."},"messaging_type":"RESPONSE","recipient":{"id":"6543210987654321"}}"##)
            #expect(receipt.platformMessageId?.hasPrefix("m_") == true)
        }
    }

    @Test func humanAgentTagBetweenOneAndSevenDays() async throws {
        try await withStandIn(StandInPlatforms.messenger()) { standIn, transport in
            _ = try await TestAccounts.messenger(apiBaseURL: standIn.baseURL)
                .send(outbound(.text("Following up on ticket #88."), to: psid, context: context(hoursSinceCustomer: 30)), transport: transport)
            #expect(try #require(standIn.requests.first).text == ##"{"message":{"text":"Following up on ticket #88."},"messaging_type":"MESSAGE_TAG","recipient":{"id":"6543210987654321"},"tag":"HUMAN_AGENT"}"##)
        }
    }

    @Test func refusedAfterSevenDaysWithoutACall() async throws {
        try await withStandIn(StandInPlatforms.messenger()) { standIn, transport in
            for ctx in [context(hoursSinceCustomer: 7 * 24 + 1), ConversationContext()] {
                let error = await sendError {
                    _ = try await TestAccounts.messenger(apiBaseURL: standIn.baseURL).send(outbound(.text("hello?"), to: psid, context: ctx), transport: transport)
                }
                #expect(error?.code == "outside_window")
                #expect(error?.reason.contains("HUMAN_AGENT") == true)
            }
            #expect(standIn.requests.isEmpty)
        }
    }

    @Test func imageByURL() async throws {
        try await withStandIn(StandInPlatforms.messenger()) { standIn, transport in
            let content = MessageContent(kind: .image, media: MediaReference(url: "https://cdn.example.com/p.jpg"))
            _ = try await TestAccounts.messenger(apiBaseURL: standIn.baseURL).send(outbound(content, to: psid, context: context(hoursSinceCustomer: 1)), transport: transport)
            #expect(sameJSON(try #require(standIn.requests.first).body, #"""
                {"recipient":{"id":"6543210987654321"},"messaging_type":"RESPONSE","message":{"attachment":{"type":"image","payload":{"url":"https://cdn.example.com/p.jpg","is_reusable":true}}}}
                """#))
        }
    }

    @Test(arguments: [
        (500, #"{"error":{"message":"(#1200) Temporary send message failure. Please try again later","type":"OAuthException","code":1200,"fbtrace_id":"B1"}}"#, "meta_1200", true),
        (400, #"{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"B2"}}"#, "meta_613", true),
        (400, #"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"B3"}}"#, "outside_window", false),
        (400, #"{"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"B4"}}"#, "meta_551", false),
        (401, #"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"B5"}}"#, "meta_190", false),
        (502, "Bad Gateway", "http_502", true),
    ])
    func errorsAreClassifiedByCode(_ status: Int, _ body: String, _ code: String, _ retryable: Bool) async throws {
        try await withStandIn(StandInPlatforms.messenger()) { standIn, transport in
            standIn.script(path, [.json(body, status: status)])
            let error = await sendError {
                _ = try await TestAccounts.messenger(apiBaseURL: standIn.baseURL).send(outbound(.text("x"), to: psid, context: context(hoursSinceCustomer: 1)), transport: transport)
            }
            #expect(error?.code == code)
            #expect(error?.isRetryable == retryable)
        }
    }

    @Test func copiesCDNMediaAndFetchesProfiles() async throws {
        try await withStandIn(StandInPlatforms.messenger(displayNames: [psid: "Lena Vogel"])) { standIn, transport in
            let adapter = TestAccounts.messenger(apiBaseURL: standIn.baseURL)
            let media = try await adapter.downloadMedia(MediaReference(url: standIn.baseURL + "/cdn/abc.jpg"), kind: .image, maxBytes: 1 << 20, transport: transport)
            #expect(media.data == StandInPlatforms.sampleMedia)
            #expect(standIn.requests.first?.headers["authorization"] == nil)
            let gone = await sendError {
                standIn.script("/cdn/expired.jpg", [.init(status: 403)])
                _ = try await adapter.downloadMedia(MediaReference(url: standIn.baseURL + "/cdn/expired.jpg"), kind: .image, maxBytes: 1 << 20, transport: transport)
            }
            #expect(gone?.isRetryable == false)
            let profile = try await adapter.fetchProfile(userId: psid, transport: transport)
            #expect(profile == ContactProfile(displayName: "Lena Vogel"))
            #expect(standIn.requests.last?.path == "/v21.0/\(psid)?fields=first_name,last_name")
            _ = try await TestAccounts.messenger(.instagram, apiBaseURL: standIn.baseURL).fetchProfile(userId: psid, transport: transport)
            #expect(standIn.requests.last?.path == "/v21.0/\(psid)?fields=name,username")
        }
    }

    @Test func handshakeAndSignatureAreMeta() throws {
        let adapter = TestAccounts.messenger()
        let ok = WebhookRequest(method: "GET", query: ["hub.mode": "subscribe", "hub.verify_token": "ms-verify-token", "hub.challenge": "42"])
        #expect(try adapter.handshake(ok) == WebhookResponse(status: 200, body: "42"))
        #expect(adapter.acknowledgement.status == 200)
    }
}
