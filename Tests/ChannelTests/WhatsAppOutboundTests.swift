import ChannelKit
import Foundation
import PlatformStandIns
import Testing
import WhatsAppChannel

@Suite struct WhatsAppOutboundTests {
    let customer = "5511988887777"
    let path = "/v21.0/106540352242922/messages"

    func inWindow(_ now: Date = Date()) -> ConversationContext {
        ConversationContext(lastInboundAt: now.addingTimeInterval(-3600), now: now)
    }

    @Test func textInsideWindowSendsExactRequest() async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            let receipt = try await TestAccounts.whatsapp(apiBaseURL: standIn.baseURL)
                .send(outbound(.text("Your order ships today."), to: customer, context: inWindow()), transport: transport)
            let request = try #require(standIn.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == path)
            #expect(request.headers["authorization"] == "Bearer wa-test-token")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.text == #"{"messaging_product":"whatsapp","recipient_type":"individual","text":{"body":"Your order ships today.","preview_url":false},"to":"5511988887777","type":"text"}"#)
            #expect(receipt.platformMessageId?.hasPrefix("wamid.") == true)
        }
    }

    @Test func freeTextOutsideWindowIsRefusedBeforeAnyCall() async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            let now = Date()
            for context in [ConversationContext(lastInboundAt: now.addingTimeInterval(-25 * 3600), now: now), ConversationContext(now: now)] {
                let error = await sendError {
                    _ = try await TestAccounts.whatsapp(apiBaseURL: standIn.baseURL).send(outbound(.text("hello again"), to: customer, context: context), transport: transport)
                }
                #expect(error?.code == "outside_window")
                #expect(error?.reason.contains("template") == true)
                #expect(error?.isRetryable == false)
            }
            #expect(standIn.requests.isEmpty)
        }
    }

    @Test func templateGoesOutsideWindow() async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            let content = MessageContent(kind: .template, template: Template(name: "order_shipped", language: "pt_BR", parameters: ["#1234"]))
            _ = try await TestAccounts.whatsapp(apiBaseURL: standIn.baseURL).send(outbound(content, to: customer), transport: transport)
            #expect(try #require(standIn.requests.first).text == ##"{"messaging_product":"whatsapp","recipient_type":"individual","template":{"components":[{"parameters":[{"text":"#1234","type":"text"}],"type":"body"}],"language":{"code":"pt_BR"},"name":"order_shipped"},"to":"5511988887777","type":"template"}"##)
        }
    }

    @Test func imageByLink() async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            let content = MessageContent(kind: .image, text: "your receipt", media: MediaReference(url: "https://cdn.example.com/r.jpg"))
            _ = try await TestAccounts.whatsapp(apiBaseURL: standIn.baseURL).send(outbound(content, to: customer, context: inWindow()), transport: transport)
            #expect(sameJSON(try #require(standIn.requests.first).body, #"""
                {"messaging_product":"whatsapp","recipient_type":"individual","to":"5511988887777","type":"image","image":{"link":"https://cdn.example.com/r.jpg","caption":"your receipt"}}
                """#))
        }
    }

    @Test(arguments: [
        (400, #"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed"},"fbtrace_id":"A1"}}"#, [:], "outside_window", false, nil as Duration?),
        (429, #"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"A2"}}"#, ["retry-after": "3"], "whatsapp_130429", true, .seconds(3)),
        (401, #"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"fbtrace_id":"A3"}}"#, [:], "whatsapp_190", false, nil),
        (400, #"{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026,"fbtrace_id":"A4"}}"#, [:], "whatsapp_131026", false, nil),
        (503, "Service Unavailable", [:], "http_503", true, nil),
    ])
    func errorsAreClassifiedByCode(_ status: Int, _ body: String, _ headers: [String: String], _ code: String, _ retryable: Bool, _ after: Duration?) async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            standIn.script(path, [.json(body, status: status, headers: headers)])
            let error = await sendError {
                _ = try await TestAccounts.whatsapp(apiBaseURL: standIn.baseURL).send(outbound(.text("x"), to: customer, context: inWindow()), transport: transport)
            }
            #expect(error?.code == code)
            #expect(error?.isRetryable == retryable)
            if let after { #expect(error?.disposition == .retryable(after: after)) }
        }
    }

    @Test func downloadsMediaInTwoStepsAndChecksHash() async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            let adapter = TestAccounts.whatsapp(apiBaseURL: standIn.baseURL)
            let media = try await adapter.downloadMedia(MediaReference(platformId: "1479537139650973"), kind: .image, maxBytes: 1 << 20, transport: transport)
            #expect(media.data == StandInPlatforms.sampleMedia)
            #expect(media.mimeType == "image/jpeg")
            #expect(standIn.requests.map(\.path) == ["/v21.0/1479537139650973", "/media-download/1479537139650973"])
            #expect(standIn.requests.allSatisfy { $0.headers["authorization"] == "Bearer wa-test-token" })

            standIn.script("/v21.0/55", [.json(#"{"url":"\#(standIn.baseURL)/media-download/55","mime_type":"image/jpeg","sha256":"00ff","file_size":1032}"#)])
            let mismatch = await sendError { _ = try await adapter.downloadMedia(MediaReference(platformId: "55"), kind: .image, maxBytes: 1 << 20, transport: transport) }
            #expect(mismatch?.code == "checksum")

            let tooLarge = await sendError { _ = try await adapter.downloadMedia(MediaReference(platformId: "56"), kind: .image, maxBytes: 1000, transport: transport) }
            #expect(tooLarge?.code == "too_large")
        }
    }
}
