@testable import BridgeServer
import ChannelKit
import Foundation
import PlatformStandIns
import Testing

@Suite struct WeChatEndToEndTests {
    @Test func handshakeOverHTTP() async throws {
        try await TestBridge.with { t in
            let ok = try await t.get(
                "/webhooks/wechat/main?signature=438e320ae0bf0dbbad6e9d3ff6867680ed42140b&timestamp=1700000000&nonce=nonce123&echostr=5837397520665436492",
                token: nil)
            #expect(ok.status == 200)
            #expect(ok.text == "5837397520665436492")
            let bad = try await t.get("/webhooks/wechat/main?signature=0000&timestamp=1700000000&nonce=nonce123&echostr=1", token: nil)
            #expect(bad.status == 403)
        }
    }

    /// Plaintext mode signs the query only: the same signed query over another body is refused (401)
    /// and stores nothing, while WeChat's own redelivery of the body is acknowledged. (Across
    /// processes on PostgreSQL: `NonceLedgerContractTests`.)
    @Test func aReplayedSignatureIsRefused() async throws {
        try await TestBridge.with(standIns: [.wechat]) { t in
            let query = PlatformSignatures.wechatQuery(token: "wxtoken", timestamp: String(Int(Date().timeIntervalSince1970)), nonce: "once", encrypted: nil)
            let path = "/webhooks/wechat/main?\(query)&openid=\(Payloads.openId)"
            let headers = [("Content-Type", "text/xml")]
            let first = Data(Payloads.wechatText("24190000000000007", "first").utf8)
            #expect(try await t.request(.POST, path, body: first, headers: headers, token: nil).status == 200)
            #expect(try await t.request(.POST, path, body: first, headers: headers, token: nil).status == 200)
            let forged = try await t.request(.POST, path, body: Data(Payloads.wechatText("24190000000000008", "forged").utf8), headers: headers, token: nil)
            #expect(forged.status == 401)
            #expect(forged.errorMessage?.contains("replayed signature") == true)
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=wechat").items.first)
            #expect(try await t.messages(ticket: try #require(ticket["id"] as? Int)).map { $0["text"] as? String } == ["first"])
        }
    }

    /// When the nonce cannot be recorded (here PostgreSQL refuses the write) the webhook is refused
    /// with 503 and stores nothing, so WeChat delivers it again; once the ledger is back, it is
    /// stored. (On SQLite the ledger is in the process and cannot fail.)
    @Test(.enabled(if: TestDatabase.isPostgres)) func aNonceThatCannotBeRecordedRefusesTheWebhook() async throws {
        try await TestBridge.with(standIns: [.wechat]) { t in
            let query = PlatformSignatures.wechatQuery(token: "wxtoken", timestamp: String(Int(Date().timeIntervalSince1970)), nonce: "held", encrypted: nil)
            let path = "/webhooks/wechat/main?\(query)&openid=\(Payloads.openId)"
            let body = Data(Payloads.wechatText("24190000000000010", "held back").utf8)
            try await t.whileRefusingWrites(to: "webhook_nonces") {
                let refused = try await t.request(.POST, path, body: body, headers: [("Content-Type", "text/xml")], token: nil)
                #expect(refused.status == 503)
                #expect(refused.errorCode == "unavailable")
                #expect(try await t.get("/api/v1/tickets?channel=wechat").items.isEmpty)
            }
            #expect(try await t.request(.POST, path, body: body, headers: [("Content-Type", "text/xml")], token: nil).status == 200)
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=wechat").items.first)
            #expect(try await t.messages(ticket: try #require(ticket["id"] as? Int)).map { $0["text"] as? String } == ["held back"])
        }
    }

    /// A handshake signs the same query a post does: its nonce is used up on the handshake's empty
    /// body, so the query (in any proxy's access log) cannot sign a message.
    @Test func aHandshakesQueryCannotSignAPost() async throws {
        try await TestBridge.with(standIns: [.wechat]) { t in
            let query = PlatformSignatures.wechatQuery(token: "wxtoken", timestamp: String(Int(Date().timeIntervalSince1970)), nonce: "shake", encrypted: nil)
            let handshake = try await t.get("/webhooks/wechat/main?\(query)&echostr=42", token: nil)
            #expect(handshake.status == 200)
            #expect(handshake.text == "42")
            let post = try await t.request(
                .POST, "/webhooks/wechat/main?\(query)&openid=\(Payloads.openId)", body: Data(Payloads.wechatText("24190000000000009", "forged").utf8),
                headers: [("Content-Type", "text/xml")], token: nil)
            #expect(post.status == 401)
            #expect(post.errorMessage?.contains("replayed signature") == true)
        }
    }

    @Test(arguments: [false, true])
    func conversationRoundTrip(safeMode: Bool) async throws {
        try await TestBridge.with(standIns: [.wechat]) { t in
            let webhook = try await t.postWeChat(Payloads.wechatText("24190000000000001", "你好，我的订单在哪里？"), safe: safeMode)
            #expect(webhook.status == 200)
            #expect(webhook.text == "success")
            // A redelivery (WeChat retries after 5 s) stores nothing twice.
            #expect(try await t.postWeChat(Payloads.wechatText("24190000000000001", "你好，我的订单在哪里？"), safe: safeMode).text == "success")
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=wechat").items.first)
            let ticketId = try #require(ticket["id"] as? Int)
            #expect(try await t.messages(ticket: ticketId).map { $0["text"] as? String } == ["你好，我的订单在哪里？"])

            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"您的订单已发货"}"#).status == 202)
            try await t.eventually("the customer-service message") { !t.wechat.requests(to: "/cgi-bin/message/custom/send").isEmpty }
            #expect(t.wechat.requests(to: "/cgi-bin/message/custom/send").first?.text
                == #"{"msgtype":"text","text":{"content":"您的订单已发货"},"touser":"oia2TjuEGTNoeX76QEjQNrcURxG8"}"#)
            try await t.eventually("sent") { try await t.messages(ticket: ticketId).last?["status"] as? String == "sent" }
        }
    }

    @Test func imageIsCopiedByMediaId() async throws {
        try await TestBridge.with(standIns: [.wechat]) { t in
            let xml = "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[\(Payloads.openId)]]></FromUserName><CreateTime>\(Int(Date().timeIntervalSince1970))</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x/0]]></PicUrl><MediaId><![CDATA[MEDIA_ID_IMG]]></MediaId><MsgId>24190000000000002</MsgId></xml>"
            #expect(try await t.postWeChat(xml).status == 200)
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            try await t.eventually("the image stored") {
                ((try await t.messages(ticket: ticketId).first?["attachments"] as? [[String: Any]])?.first?["status"] as? String) == "stored"
            }
            #expect(t.wechat.requests(to: "/cgi-bin/media/get").first?.path.hasSuffix("media_id=MEDIA_ID_IMG") == true)
        }
    }

    @Test func hostileXMLIsRefusedAndNothingStored() async throws {
        try await TestBridge.with { t in
            let xxe = #"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><FromUserName>&xxe;</FromUserName></xml>"#
            let refused = try await t.postWeChat(xxe)
            #expect(refused.status == 400)
            #expect(refused.errorMessage == "refused XML: DOCTYPE and entity declarations are not allowed")
            #expect(try await t.get("/api/v1/tickets").items.isEmpty)
        }
    }

    @Test func staleConversationIsRefused() async throws {
        try await TestBridge.with { t in
            _ = try await t.postWeChat(Payloads.wechatText("24190000000000009", "hello", at: Int(Date().timeIntervalSince1970) - 3 * 86400))
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            let refused = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"sorry"}"#)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "outside_window")
        }
    }
}
