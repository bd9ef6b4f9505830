import ChannelKit
import Foundation
import LINEChannel
import PlatformStandIns
import Testing

@Suite struct LINEOutboundTests {
    let user = "U4af4980629a1b2c3d4e5f60718293a4b"

    @Test func pushSendsExactRequest() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let adapter = TestAccounts.line(apiBaseURL: standIn.baseURL)
            let receipt = try await adapter.send(outbound(.text("Order #1234 shipped."), to: user), transport: transport)
            let request = try #require(standIn.requests.first)
            #expect(standIn.requests.count == 1)
            #expect(request.method == "POST")
            #expect(request.path == "/v2/bot/message/push")
            #expect(request.headers["authorization"] == "Bearer line-test-token")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["x-line-retry-key"] == "123e4567-e89b-12d3-a456-426614174000")
            #expect(request.text == #"{"messages":[{"text":"Order #1234 shipped.","type":"text"}],"to":"U4af4980629a1b2c3d4e5f60718293a4b"}"#)
            #expect(receipt.platformMessageId != nil)
            #expect(!receipt.usedReplyToken)
        }
    }

    @Test func freshReplyTokenUsesReplyEndpoint() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let now = Date()
            let context = ConversationContext(replyToken: "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", replyTokenIssuedAt: now.addingTimeInterval(-10), now: now)
            let receipt = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(.text("Hi!"), to: user, context: context), transport: transport)
            let request = try #require(standIn.requests.first)
            #expect(request.path == "/v2/bot/message/reply")
            #expect(request.headers["x-line-retry-key"] == nil)
            #expect(request.text == #"{"messages":[{"text":"Hi!","type":"text"}],"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"}"#)
            #expect(receipt.usedReplyToken)
        }
    }

    @Test func staleReplyTokenFallsBackToPush() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let now = Date()
            let context = ConversationContext(replyToken: "old", replyTokenIssuedAt: now.addingTimeInterval(-120), now: now)
            _ = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(.text("Late"), to: user, context: context), transport: transport)
            #expect(standIn.requests.map(\.path) == ["/v2/bot/message/push"])
        }
    }

    @Test func invalidReplyTokenRetriesAsPush() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            standIn.script("/v2/bot/message/reply", [.json(#"{"message":"Invalid reply token"}"#, status: 400)])
            let now = Date()
            let context = ConversationContext(replyToken: "used", replyTokenIssuedAt: now, now: now)
            let receipt = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(.text("Hi"), to: user, context: context), transport: transport)
            #expect(standIn.requests.map(\.path) == ["/v2/bot/message/reply", "/v2/bot/message/push"])
            #expect(!receipt.usedReplyToken)
        }
    }

    @Test func imageMessageBody() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let content = MessageContent(kind: .image, media: MediaReference(url: "https://cdn.example.com/p.jpg", previewURL: "https://cdn.example.com/p_s.jpg"))
            _ = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(content, to: user), transport: transport)
            #expect(sameJSON(try #require(standIn.requests.first).body, #"""
                {"to":"U4af4980629a1b2c3d4e5f60718293a4b","messages":[{"type":"image","originalContentUrl":"https://cdn.example.com/p.jpg","previewImageUrl":"https://cdn.example.com/p_s.jpg"}]}
                """#))
        }
    }

    @Test func anImagesCaptionFollowsItAsText() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let content = MessageContent(kind: .image, text: "The receipt", media: MediaReference(url: "https://cdn.example.com/p.jpg"))
            _ = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(content, to: user), transport: transport)
            #expect(sameJSON(try #require(standIn.requests.first).body, #"""
                {"to":"U4af4980629a1b2c3d4e5f60718293a4b","messages":[{"type":"image","originalContentUrl":"https://cdn.example.com/p.jpg","previewImageUrl":"https://cdn.example.com/p.jpg"},{"type":"text","text":"The receipt"}]}
                """#))
        }
    }

    @Test func alreadyAcceptedRetryKeyIsSuccess() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            standIn.script("/v2/bot/message/push", [.json(#"{"message":"The retry key is already accepted"}"#, status: 409, headers: ["x-line-accepted-request-id": "req-77"])])
            let receipt = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(.text("again"), to: user), transport: transport)
            #expect(receipt.platformMessageId == "req-77")
        }
    }

    @Test(arguments: [
        (429, #"{"message":"Too many requests"}"#, ["retry-after": "7"], SendError.retryable("http_429", "Too many requests", after: .seconds(7))),
        (429, #"{"message":"You have reached your monthly limit."}"#, [:], SendError.permanent("monthly_quota", "You have reached your monthly limit.")),
        (500, #"{"message":"Internal error"}"#, [:], SendError.retryable("http_500", "Internal error")),
        (401, #"{"message":"Authentication failed"}"#, [:], SendError.permanent("http_401", "the platform refused our credentials: Authentication failed")),
        (400, #"{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}]}"#, [:],
         SendError.permanent("http_400", "The request body has 1 error(s)")),
    ])
    func errorsAreClassified(_ status: Int, _ body: String, _ headers: [String: String], _ expected: SendError) async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            standIn.script("/v2/bot/message/push", [.json(body, status: status, headers: headers)])
            let error = await sendError { _ = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(.text("x"), to: user), transport: transport) }
            #expect(error == expected)
        }
    }

    @Test func blockedCustomerIsRefusedWithoutACall() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let error = await sendError {
                _ = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(
                    outbound(.text("x"), to: user, context: ConversationContext(recipientBlocked: true)), transport: transport)
            }
            #expect(error?.code == "blocked")
            #expect(standIn.requests.isEmpty)
        }
    }

    @Test func downloadsContentWithinLimit() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let adapter = TestAccounts.line(apiBaseURL: standIn.baseURL)
            let media = try await adapter.downloadMedia(MediaReference(platformId: "468789577898262532"), kind: .image, maxBytes: 1 << 20, transport: transport)
            #expect(media.data == StandInPlatforms.sampleMedia)
            #expect(media.mimeType == "image/png")
            let request = try #require(standIn.requests.first)
            #expect(request.path == "/v2/bot/message/468789577898262532/content")
            #expect(request.headers["authorization"] == "Bearer line-test-token")
            let error = await sendError { _ = try await adapter.downloadMedia(MediaReference(platformId: "1"), kind: .image, maxBytes: 100, transport: transport) }
            #expect(error?.code == "too_large")
        }
    }

    @Test func videoWaitsForTranscoding() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            let adapter = TestAccounts.line(apiBaseURL: standIn.baseURL)
            let video = MediaReference(platformId: "468789577898262534")
            standIn.script("/v2/bot/message/468789577898262534/content/transcoding", [
                .json(#"{"status":"processing"}"#), .json(#"{"status":"succeeded"}"#), .json(#"{"status":"failed"}"#),
            ])
            let preparing = await sendError { _ = try await adapter.downloadMedia(video, kind: .video, maxBytes: 1 << 20, transport: transport) }
            #expect(preparing?.code == "preparing")
            #expect(preparing?.isRetryable == true)
            #expect(standIn.requests.count == 1)
            let media = try await adapter.downloadMedia(video, kind: .video, maxBytes: 1 << 20, transport: transport)
            #expect(media.data == StandInPlatforms.sampleMedia)
            #expect(standIn.requests.map(\.path).suffix(2) == ["/v2/bot/message/468789577898262534/content/transcoding", "/v2/bot/message/468789577898262534/content"])
            let failed = await sendError { _ = try await adapter.downloadMedia(video, kind: .video, maxBytes: 1 << 20, transport: transport) }
            #expect(failed?.code == "transcoding_failed")
            #expect(failed?.isRetryable == false)
        }
    }

    @Test func fetchesProfileName() async throws {
        try await withStandIn(StandInPlatforms.line(displayNames: [user: "Kenji"])) { standIn, transport in
            let profile = try await TestAccounts.line(apiBaseURL: standIn.baseURL).fetchProfile(userId: user, transport: transport)
            #expect(profile == ContactProfile(displayName: "Kenji"))
            #expect(standIn.requests.first?.path == "/v2/bot/profile/\(user)")
        }
    }
}
