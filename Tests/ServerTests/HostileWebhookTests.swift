@testable import BridgeServer
import ChannelKit
import Foundation
import GRDB
import PlatformStandIns
import Testing

/// Signed webhooks whose content a strict reader would choke on (issue 13, points 1 and 16): the
/// bridge stays up, acknowledges the delivery, files the readable events and keeps the others raw.
@Suite struct HostileWebhookTests {
    func unreadable(_ t: TestBridge) async throws -> [[String: Any]] {
        try await t.get("/api/v1/unreadable-events").items
    }

    @Test func impossibleTimestampsNeverTrapAndBlockNothing() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            // LINE: Int64.max milliseconds beside a good event in the same delivery.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let good = Payloads.lineText("01GOOD", "still filed", at: now)
            let bad = Payloads.lineText("01BAD", "overflow", at: Int64.max)
            let events = [bad, good].map { body in
                String(body[body.range(of: #""events":["#)!.upperBound..<body.index(body.endIndex, offsetBy: -2)])
            }
            let line = try await t.postLINE(#"{"destination":"Ubot","events":[\#(events.joined(separator: ","))]}"#)
            #expect(line.status == 200)

            // WhatsApp: "nan" and "1e300" seconds.
            for (id, stamp) in [("wamid.NAN", "nan"), ("wamid.HUGE", "1e300")] {
                let body = Payloads.whatsapp(#""messages":[{"from":"\#(Payloads.customer)","id":"\#(id)","timestamp":"\#(stamp)","type":"text","text":{"body":"x"}}]"#)
                #expect(try await t.postWhatsApp(body).status == 200)
            }
            // WeChat: <CreateTime>nan</CreateTime>; WeChat wants "success" back.
            let wechat = try await t.postWeChat(Payloads.wechatText("24190000000000777", "x").replacingOccurrences(
                of: #"<CreateTime>\#(Int(Date().timeIntervalSince1970))</CreateTime>"#, with: "<CreateTime>nan</CreateTime>"))
            #expect(wechat.status == 200)
            #expect(wechat.text == "success")

            // The process is up, the good event was filed, the four bad ones are kept with why.
            #expect(try await t.get("/health", token: nil).status == 200)
            let tickets = try await t.get("/api/v1/tickets").items
            #expect(tickets.count == 1)
            let kept = try await unreadable(t)
            #expect(kept.count == 4)
            #expect(Set(kept.compactMap { $0["account"] as? String }) == ["line/main", "whatsapp/main", "wechat/main"])
            #expect(kept.allSatisfy { ($0["reason"] as? String)?.contains("not a plausible time") == true })
            #expect(kept.contains { ($0["raw"] as? String)?.contains("overflow") == true })

            // A redelivery of the same delivery keeps nothing twice.
            #expect(try await t.postWhatsApp(Payloads.whatsapp(#""messages":[{"from":"\#(Payloads.customer)","id":"wamid.NAN","timestamp":"nan","type":"text","text":{"body":"x"}}]"#)).status == 200)
            #expect(try await unreadable(t).count == 4)

            let metrics = try await t.get("/metrics").text
            #expect(metrics.contains(#"bridge_inbound_events_total{channel="whatsapp",outcome="unreadable"} 3"#))

            // Kept events hold customer data: agents may not list them.
            let agent = try await t.addAgent("Ann")
            #expect(try await t.get("/api/v1/unreadable-events", token: agent.token).status == 403)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func variantsThePlatformsSendAreFiled() async throws {
        try await TestBridge.with(standIns: [.meta]) { t in
            // WhatsApp: a customer known only by a business-scoped user id.
            let bsuid = "US.13491208655302741918"
            let whatsapp = Payloads.whatsapp(
                #""contacts":[{"profile":{"name":"Rin"},"user_id":"\#(bsuid)"}],"messages":[{"from_user_id":"\#(bsuid)","id":"wamid.BSUID","timestamp":"\#(Int(Date().timeIntervalSince1970))","type":"text","text":{"body":"hello"}}]"#)
            #expect(try await t.postWhatsApp(whatsapp).status == 200)
            // Messenger: a policy notice without sender beside a chat-plugin guest's message.
            let ms = Int64(Date().timeIntervalSince1970 * 1000)
            let messenger = #"{"object":"page","entry":[{"time":\#(ms),"id":"1122334455","messaging":[{"recipient":{"id":"1122334455"},"timestamp":\#(ms),"policy-enforcement":{"action":"block","reason":"x"}},{"sender":{"user_ref":"4323847927834"},"recipient":{"id":"1122334455"},"timestamp":\#(ms),"message":{"mid":"m_guest","text":"from the website"}}]}]}"#
            #expect(try await t.postMeta(.messenger, messenger).status == 200)
            // WeChat: the report after a mass send, with nested elements.
            let report = "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oSys]]></FromUserName><CreateTime>\(Int(Date().timeIntervalSince1970))</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>1000001625</MsgID><CopyrightCheckResult><Count>0</Count><ResultList></ResultList><CheckState>1</CheckState></CopyrightCheckResult></xml>"
            #expect(try await t.postWeChat(report).status == 200)

            try await t.eventually("both customers' tickets") { try await t.get("/api/v1/tickets").items.count == 2 }
            #expect(try await unreadable(t).isEmpty)
            let identities = try await t.bridge.inbox.database.pool.read { db in
                try String.fetchAll(db, sql: "SELECT platform_user_id FROM identities ORDER BY platform_user_id")
            }
            #expect(identities == [bsuid, "user_ref:4323847927834"])
        }
    }
}
