import ChannelKit
import Foundation
import PlatformStandIns
import Testing
import WeChatChannel

@Suite struct WeChatOutboundTests {
    let openId = "oia2TjuEGTNoeX76QEjQNrcURxG8"

    func recent() -> ConversationContext {
        let now = Date()
        return ConversationContext(lastInboundAt: now.addingTimeInterval(-3600), now: now)
    }

    @Test func customerServiceTextWithFetchedToken() async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            let adapter = TestAccounts.wechat(apiBaseURL: standIn.baseURL)
            _ = try await adapter.send(outbound(.text("您的订单已发货"), to: openId, context: recent()), transport: transport)
            let paths = standIn.requests.map(\.path)
            #expect(paths.count == 2)
            #expect(paths[0] == "/cgi-bin/token?grant_type=client_credential&appid=wx1234567890abcdef&secret=wx-test-app-secret")
            let send = standIn.requests[1]
            #expect(send.method == "POST")
            #expect(send.path.hasPrefix("/cgi-bin/message/custom/send?access_token=ACCESS_TOKEN_"))
            #expect(send.headers["authorization"] == nil)
            #expect(send.text == #"{"msgtype":"text","text":{"content":"您的订单已发货"},"touser":"oia2TjuEGTNoeX76QEjQNrcURxG8"}"#)
            // The token is cached: a second send makes no token call.
            _ = try await adapter.send(outbound(.text("again"), to: openId, context: recent()), transport: transport)
            #expect(standIn.requests(to: "/cgi-bin/token").count == 1)
        }
    }

    @Test func expiredTokenIsFetchedAgainOnce() async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            let adapter = TestAccounts.wechat(apiBaseURL: standIn.baseURL)
            _ = try await adapter.send(outbound(.text("one"), to: openId, context: recent()), transport: transport)
            standIn.script("/cgi-bin/message/custom/send", [.json(#"{"errcode":42001,"errmsg":"access_token expired rid: 1"}"#)])
            _ = try await adapter.send(outbound(.text("two"), to: openId, context: recent()), transport: transport)
            let sends = standIn.requests(to: "/cgi-bin/message/custom/send")
            #expect(sends.count == 3)
            #expect(standIn.requests(to: "/cgi-bin/token").count == 2)
            // The retry used the new token.
            #expect(sends[1].path != sends[2].path)
            #expect(await adapter.tokenFetches() == 2)
        }
    }

    @Test func manyConcurrentSendsShareOneTokenFetch() async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            let adapter = TestAccounts.wechat(apiBaseURL: standIn.baseURL)
            standIn.script("/cgi-bin/token", [.json(#"{"access_token":"SLOW_TOKEN","expires_in":7200}"#, delay: .milliseconds(200))])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 {
                    group.addTask { _ = try await adapter.send(outbound(.text("n\(i)"), to: openId, context: recent()), transport: transport) }
                }
                try await group.waitForAll()
            }
            #expect(standIn.requests(to: "/cgi-bin/token").count == 1)
            #expect(standIn.requests(to: "/cgi-bin/message/custom/send?access_token=SLOW_TOKEN").count == 20)
        }
    }

    @Test func outsideFortyEightHoursIsRefusedWithoutACall() async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            let now = Date()
            let error = await sendError {
                _ = try await TestAccounts.wechat(apiBaseURL: standIn.baseURL)
                    .send(outbound(.text("late"), to: openId, context: ConversationContext(lastInboundAt: now.addingTimeInterval(-49 * 3600), now: now)), transport: transport)
            }
            #expect(error?.code == "outside_window")
            #expect(error?.reason.contains("48 hours") == true)
            #expect(standIn.requests.isEmpty)
        }
    }

    @Test(arguments: [
        (#"{"errcode":45015,"errmsg":"response out of time limit or subscription is canceled"}"#, "outside_window", false),
        (#"{"errcode":-1,"errmsg":"system error"}"#, "wechat_-1", true),
        (#"{"errcode":45047,"errmsg":"out of response count limit"}"#, "outside_window", false),
        (#"{"errcode":40003,"errmsg":"invalid openid"}"#, "wechat_40003", false),
        (#"{"errcode":48001,"errmsg":"api unauthorized"}"#, "wechat_48001", false),
    ])
    func errorCodesAreClassified(_ body: String, _ code: String, _ retryable: Bool) async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            standIn.script("/cgi-bin/message/custom/send", [.json(body)])
            let error = await sendError {
                _ = try await TestAccounts.wechat(apiBaseURL: standIn.baseURL).send(outbound(.text("x"), to: openId, context: recent()), transport: transport)
            }
            #expect(error?.code == code)
            #expect(error?.isRetryable == retryable)
        }
    }

    @Test func imageIsUploadedThenSentByMediaId() async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            let content = MessageContent(kind: .image, media: MediaReference(url: standIn.baseURL + "/img/label.jpg"))
            _ = try await TestAccounts.wechat(apiBaseURL: standIn.baseURL).send(outbound(content, to: openId, context: recent()), transport: transport)
            let upload = try #require(standIn.requests(to: "/cgi-bin/media/upload").first)
            #expect(upload.path.hasSuffix("&type=image"))
            #expect(upload.headers["content-type"]?.hasPrefix("multipart/form-data; boundary=") == true)
            #expect(upload.body.range(of: StandInPlatforms.sampleMedia) != nil)
            #expect(upload.text.contains(#"name="media""#))
            let send = try #require(standIn.requests(to: "/cgi-bin/message/custom/send").first)
            let json = try #require(send.json as? [String: Any])
            #expect(json["msgtype"] as? String == "image")
            #expect(((json["image"] as? [String: Any])?["media_id"] as? String)?.hasPrefix("MEDIA_") == true)
        }
    }

    @Test func mediaIsFetchedByMediaId() async throws {
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            let adapter = TestAccounts.wechat(apiBaseURL: standIn.baseURL)
            let media = try await adapter.downloadMedia(MediaReference(platformId: "MEDIA_ID_IMG"), kind: .image, maxBytes: 1 << 20, transport: transport)
            #expect(media.data == StandInPlatforms.sampleMedia)
            #expect(standIn.requests.last?.path.hasSuffix("&media_id=MEDIA_ID_IMG") == true)
            standIn.script("/cgi-bin/media/get", [.json(#"{"errcode":40007,"errmsg":"invalid media_id"}"#)])
            let error = await sendError { _ = try await adapter.downloadMedia(MediaReference(platformId: "GONE"), kind: .image, maxBytes: 1 << 20, transport: transport) }
            #expect(error?.code == "wechat_40007")
        }
    }
}
