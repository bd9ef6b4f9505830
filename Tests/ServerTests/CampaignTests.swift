@testable import BridgeServer
import ChannelKit
import Foundation
import GRDB
import Testing
@testable import UniversalInbox

/// Campaigns through the REST API against the platform stand-ins: segments, each platform's rules
/// and skips, LINE batches, scheduling, pause/resume/cancel, restarts, opt-outs, receipts.
@Suite struct CampaignTests {
    /// One LINE webhook carrying a text event from each of `users` (LINE sends several events per call).
    static func lineTexts(_ users: [String], text: String = "hello") -> String {
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        let events = users.enumerated().map { i, user in
            #"{"type":"message","timestamp":\#(ms),"webhookEventId":"01CAMP\#(user.suffix(12))","deliveryContext":{"isRedelivery":false},"replyToken":"rt\#(i)","mode":"active","source":{"type":"user","userId":"\#(user)"},"message":{"id":"m\#(user.suffix(12))","type":"text","quoteToken":"q","text":"\#(text)"}}"#
        }
        return #"{"destination":"Ubot","events":[\#(events.joined(separator: ","))]}"#
    }

    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    func waitForCompletion(_ t: TestBridge, _ id: Int, timeout: Duration = .seconds(20)) async throws -> [String: Any] {
        try await t.eventually("campaign \(id) completed", timeout: timeout) {
            try await t.get("/api/v1/campaigns/\(id)").json["status"] as? String == "completed"
        }
        return try await t.get("/api/v1/campaigns/\(id)").json
    }

    @Test func eachPlatformsRulesDecideAndExcludedRecipientsAreReported() async throws {
        try await TestBridge.with(standIns: [.line, .whatsapp, .meta, .sms]) { t in
            // Three LINE customers, one of whom blocked the account; a WhatsApp customer last heard
            // from two days ago; an SMS customer who texted STOP; a Messenger customer from last week.
            _ = try await t.postLINE(Self.lineTexts((1...3).map(Self.user)))
            _ = try await t.postLINE(#"{"destination":"Ubot","events":[{"type":"unfollow","timestamp":1700000000000,"webhookEventId":"01UNFOLLOW3","deliveryContext":{"isRedelivery":false},"mode":"active","source":{"type":"user","userId":"\#(Self.user(3))"}}]}"#)
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.OLD1", "hi", at: Int64(Date().timeIntervalSince1970) - 2 * 86400))
            _ = try await t.postSMS(Payloads.sms("SM0000000000000000000000000000CA01", "STOP", from: "+15550009999"))
            let lastWeek = Int64(Date().timeIntervalSince1970 * 1000) - 8 * 86_400_000
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_old","text":"hello"}"#, at: lastWeek))

            let created = try await t.postJSON("/api/v1/campaigns", #"""
                {"name":"November news","audience":{"contactIds":[1,2,3,4,5,6]},"content":{"text":"Hi {{contact.name|there}}, our sale starts today!"},"start":true}
                """#)
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? Int)
            let done = try await waitForCompletion(t, id)
            #expect(done["total"] as? Int == 6)

            let report = try await t.get("/api/v1/campaigns/\(id)/report").json
            let channels = Dictionary(uniqueKeysWithValues: (report["channels"] as? [[String: Any]] ?? []).map { ($0["channel"] as? String ?? "", $0) })
            #expect(channels["line"]?["sent"] as? Int == 2)
            #expect(channels["line"]?["skipped"] as? Int == 1)
            #expect(channels["whatsapp"]?["skipped"] as? Int == 1)
            #expect(channels["sms"]?["skipped"] as? Int == 1)
            #expect(channels["messenger"]?["skipped"] as? Int == 1)
            let reasons = (report["reasons"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            #expect(reasons.contains { $0.contains("template") })  // WhatsApp outside 24 hours
            #expect(reasons.contains { $0.contains("STOP") })  // SMS opt-out
            #expect(reasons.contains { $0.contains("message tag") })  // Messenger outside 24 hours
            #expect(reasons.contains { $0.contains("blocked") })  // LINE unfollow
            // Personalised text goes one by one (push), never to the blocked customer; nothing else went out.
            let pushes = t.line.requests(to: "/v2/bot/message/push")
            #expect(pushes.count == 2)
            #expect(pushes.allSatisfy { $0.text.contains("our sale starts today") && $0.headers["x-line-retry-key"] != nil })
            #expect(t.whatsapp.requests.isEmpty)
            #expect(t.sms.requests.isEmpty)
            #expect(t.meta.requests(to: "/v21.0/1122334455/messages").isEmpty)

            let skipped = try await t.get("/api/v1/campaigns/\(id)/recipients?status=skipped").items
            #expect(skipped.count == 4)
            let csv = try await t.get("/api/v1/campaigns/\(id)/report?format=csv").text
            #expect(csv.hasPrefix("channel,sent,delivered,read,failed,skipped,pending\r\n"))
        }
    }

    @Test func whatsappTemplatesAndMessengerTagsCarryOutsideTheWindow() async throws {
        try await TestBridge.with(standIns: [.whatsapp, .meta]) { t in
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.OLD2", "hi", at: Int64(Date().timeIntervalSince1970) - 2 * 86400))
            let lastWeek = Int64(Date().timeIntervalSince1970 * 1000) - 8 * 86_400_000
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_old2","text":"hello"}"#, at: lastWeek))
            let id = try #require(try await t.postJSON("/api/v1/campaigns", ##"""
                {"name":"Order updates","audience":{"contactIds":[1,2]},"start":true,
                 "content":{"text":"Your order has shipped","template":{"name":"order_update","language":"en_US","parameters":["{{contact.name|customer}}"]},"messengerTag":"POST_PURCHASE_UPDATE"}}
                """##).json["id"] as? Int)
            _ = try await waitForCompletion(t, id)
            let template = try #require(t.whatsapp.requests.first?.json as? [String: Any])
            #expect(template["type"] as? String == "template")
            #expect(((template["template"] as? [String: Any])?["components"] as? [[String: Any]])?.first?["parameters"] as? [[String: String]] == [["type": "text", "text": "Ana"]])
            let messenger = try #require(t.meta.requests(to: "/v21.0/1122334455/messages").first?.json as? [String: Any])
            #expect(messenger["messaging_type"] as? String == "MESSAGE_TAG")
            #expect(messenger["tag"] as? String == "POST_PURCHASE_UPDATE")
            #expect(try await t.postJSON("/api/v1/campaigns", #"{"name":"x","audience":{"contactIds":[1]},"content":{"text":"x","messengerTag":"HUMAN_AGENT"}}"#).errorCode == "invalid_messengerTag")
            // imageUrl is checked by bytes, as openapi.yaml's pattern: a combining mark after "https://"
            // does not hide the prefix (Swift's hasPrefix compares whole characters).
            #expect(try await t.postJSON("/api/v1/campaigns/preview", #"{"audience":{"contactIds":[1]},"content":{"imageUrl":"ftp://x/a.png"}}"#).errorCode == "invalid_image")
            #expect(try await t.postJSON("/api/v1/campaigns/preview", #"{"audience":{"contactIds":[1]},"content":{"imageUrl":"https://\u20f0a.example/a.png"}}"#).status == 200)

            // WhatsApp's delivery receipt reaches the campaign's report.
            let wamid = try #require(try await t.get("/api/v1/campaigns/\(id)/recipients").items.compactMap { $0["platformMessageId"] as? String }.first { $0.hasPrefix("wamid.") })
            _ = try await t.postWhatsApp(Payloads.whatsappStatus(wamid, "delivered"))
            let report = try await t.get("/api/v1/campaigns/\(id)/report").json
            let whatsapp = (report["channels"] as? [[String: Any]])?.first { $0["channel"] as? String == "whatsapp" }
            #expect(whatsapp?["delivered"] as? Int == 1)
        }
    }

    @Test func lineGoesOutInMulticastBatchesOfFiveHundred() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let users = (1...1201).map(Self.user)
            for start in stride(from: 0, to: users.count, by: 100) {
                #expect(try await t.postLINE(Self.lineTexts(Array(users[start..<min(start + 100, users.count)]))).status == 200)
            }
            let id = try #require(try await t.postJSON("/api/v1/campaigns", #"""
                {"name":"Everyone on LINE","audience":{"channel":"line","optedIn":true},"channel":"line","content":{"text":"Our shop opens at 10 tomorrow."},"start":true}
                """#).json["id"] as? Int)
            let done = try await waitForCompletion(t, id)
            #expect((done["progress"] as? [String: Int])?["sent"] == 1201)
            let batches = t.line.requests(to: "/v2/bot/message/multicast")
            #expect(batches.map { ($0.json as? [String: Any])?["to"] as? [String] ?? [] }.map(\.count).sorted() == [201, 500, 500])
            #expect(Set(batches.compactMap { $0.headers["x-line-retry-key"] }).count == 3)
            #expect(Set(batches.flatMap { ($0.json as? [String: Any])?["to"] as? [String] ?? [] }) == Set(users))
            #expect(t.line.requests(to: "/v2/bot/message/push").isEmpty)
        }
    }

    @Test func aBroadcastToAllLINEFollowersIsOneKeyedRequest() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Self.lineTexts((1...3).map(Self.user)))
            let refused = [
                (#"{"followersOf":"line/main","tags":["vip"]}"#, #"{"text":"x"}"#, "invalid_audience"),
                (#"{"followersOf":"line/nope"}"#, #"{"text":"x"}"#, "invalid_audience"),
                (#"{"followersOf":"line/main"}"#, #"{"text":"Hi {{contact.name}}"}"#, "invalid_content"),
            ]
            for (audience, content, code) in refused {
                #expect(try await t.postJSON("/api/v1/campaigns", #"{"name":"x","audience":\#(audience),"content":\#(content)}"#).errorCode == code)
            }
            #expect(try await t.get("/api/v1/campaigns").items.isEmpty)

            let id = try #require(try await t.postJSON("/api/v1/campaigns", #"""
                {"name":"All followers","audience":{"followersOf":"line/main"},"content":{"text":"New arrivals this week!"},"start":true}
                """#).json["id"] as? Int)
            let done = try await waitForCompletion(t, id)
            #expect(done["total"] as? Int == 1)
            #expect((done["progress"] as? [String: Int])?["sent"] == 1)
            let broadcasts = t.line.requests(to: "/v2/bot/message/broadcast")
            try #require(broadcasts.count == 1)
            #expect(UUID(uuidString: broadcasts[0].headers["x-line-retry-key"] ?? "") != nil)
            let messages = (broadcasts[0].json as? [String: Any])?["messages"] as? [[String: Any]]
            #expect(messages?.first?["text"] as? String == "New arrivals this week!")
            #expect(t.line.requests(to: "/v2/bot/message/push").isEmpty)
            #expect(t.line.requests(to: "/v2/bot/message/multicast").isEmpty)
            let recipients = try await t.get("/api/v1/campaigns/\(id)/recipients").items
            #expect(recipients.map { $0["contactId"] as? Int } == [0])
            #expect(recipients.first?["status"] as? String == "sent")
        }
    }

    @Test func scheduledPausedResumedAndCancelled() async throws {
        try await TestBridge.with(standIns: [.whatsapp], configure: { config in
            config.channels = config.channels.map { channel in
                guard case .whatsapp(var whatsapp) = channel else { return channel }
                whatsapp.rateLimit = RateLimit(perSecond: 5, burst: 1)
                return .whatsapp(whatsapp)
            }
        }) { t in
            for n in 0..<40 {
                let phone = String(5511900000000 + n)
                _ = try await t.postWhatsApp(Payloads.whatsapp(#""contacts":[{"profile":{"name":"C\#(n)"},"wa_id":"\#(phone)"}],"messages":[{"from":"\#(phone)","id":"wamid.S\#(n)","timestamp":"\#(Int64(Date().timeIntervalSince1970))","type":"text","text":{"body":"hi"}}]"#))
            }
            let at = Date().addingTimeInterval(2)
            let scheduled = try await t.postJSON(
                "/api/v1/campaigns", #"{"name":"Later","audience":{"channel":"whatsapp"},"content":{"text":"Hello"},"scheduledAt":"\#(ISO8601DateFormatter().string(from: at))"}"#)
            #expect(scheduled.json["status"] as? String == "scheduled")
            let id = try #require(scheduled.json["id"] as? Int)
            // It starts by itself, not before its time; at 5/s the 40 take eight seconds: pause part-way
            // (the margin is for a loaded machine: the pause must come before the last send).
            try await t.eventually("the campaign started sending") { t.whatsapp.requests.count >= 2 }
            let startedAt = try #require(try await t.get("/api/v1/campaigns/\(id)").json["startedAt"] as? String)
            #expect(try Date(startedAt, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) >= at.addingTimeInterval(-1))  // the schedule is to the second
            #expect(try await t.postJSON("/api/v1/campaigns/\(id)/pause", "{}").json["status"] as? String == "paused")
            // The pause ends the chunk in hand: the sends in flight land and are recorded, the others
            // go back pending. Then every request the platform got is one recorded as sent.
            var progress: [String: Int] = [:]
            try await t.eventually("the paused chunk settled") {
                progress = try await t.get("/api/v1/campaigns/\(id)").json["progress"] as? [String: Int] ?? [:]
                return progress["sending", default: 0] == 0
            }
            let sentWhilePausing = t.whatsapp.requests.count
            #expect(progress["sent"] == sentWhilePausing)
            #expect(progress["pending"] == 40 - sentWhilePausing)
            // Nothing more while paused (a window that can only hide a send, never invent one).
            try await Task.sleep(for: .milliseconds(300))
            #expect(t.whatsapp.requests.count == sentWhilePausing)
            #expect(sentWhilePausing < 40)
            #expect(try await t.postJSON("/api/v1/campaigns/\(id)/pause", "{}").errorCode == "invalid_transition")
            #expect(try await t.postJSON("/api/v1/campaigns/\(id)/resume", "{}").json["status"] as? String == "running")
            let done = try await waitForCompletion(t, id)
            #expect((done["progress"] as? [String: Int])?["sent"] == 40)
            #expect(Set(t.whatsapp.requests.compactMap { ($0.json as? [String: Any])?["to"] as? String }).count == 40)  // each once
            #expect(t.whatsapp.requests.count == 40)

            let second = try #require(try await t.postJSON("/api/v1/campaigns", #"{"name":"Stop me","audience":{"channel":"whatsapp"},"content":{"text":"Again"},"start":true}"#).json["id"] as? Int)
            try await t.eventually("the second campaign sending") { t.whatsapp.requests.count >= 41 }
            let cancelled = try await t.postJSON("/api/v1/campaigns/\(second)/cancel", "{}")
            #expect(cancelled.json["status"] as? String == "cancelled")
            // The sends the cancel stopped are recorded when the chunk in flight ends.
            try await t.eventually("the recipients the cancel stopped recorded as such") {
                let report = try await t.get("/api/v1/campaigns/\(second)/report").json
                return (report["reasons"] as? [[String: Any]] ?? []).contains { $0["reason"] as? String == "campaign cancelled" }
            }
            #expect(t.whatsapp.requests.count < 80)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aRestartResendsInterruptedBatchesUnderTheirKeyAndNeverDoubles() async throws {
        try await TestBridge.with(standIns: [.line, .sms]) { t in
            _ = try await t.postLINE(Self.lineTexts((1...5).map(Self.user)))
            _ = try await t.postSMS(Payloads.sms("SM0000000000000000000000000000CA02", "hi", from: "+15550001212"))
            let id = try #require(try await t.postJSON("/api/v1/campaigns", #"{"name":"Crash","audience":{"contactIds":[1,2,3,4,5,6]},"content":{"text":"Same for all"}}"#).json["id"] as? Int)
            // As a process stopped mid-send leaves it: started, every recipient marked sending, the
            // LINE recipients' batch keyed and already accepted by LINE, the SMS in flight.
            let inbox = t.bridge.inbox
            let key = "5f0b8a2e-0d54-4c4e-9a3e-000000000001"
            let lineUsers: [String] = try await inbox.database.pool.write { db in
                var audience = CampaignAudience()
                audience.contactIds = [1, 2, 3, 4, 5, 6]
                try Inbox.resolveAudience(db, campaignId: Int64(id), audience: audience, channel: nil, now: Date().ms)
                try db.execute(sql: "UPDATE campaigns SET status = 'paused', started_at = 1 WHERE id = ?", arguments: [id])
                try db.execute(sql: "UPDATE campaign_recipients SET status = 'sending' WHERE campaign_id = ?", arguments: [id])
                try db.execute(sql: "UPDATE campaign_recipients SET batch_key = ? WHERE campaign_id = ? AND channel = 'line'", arguments: [key, id])
                return try String.fetchAll(db, sql: """
                    SELECT i.platform_user_id FROM campaign_recipients r JOIN identities i ON i.id = r.identity_id WHERE r.campaign_id = ? AND r.channel = 'line'
                    """, arguments: [id])
            }
            #expect(lineUsers.count == 5)
            let adapter = try #require(t.bridge.parts.registry.adapter(for: "line/main") as? any BatchSending)
            _ = try await adapter.sendBatch(.text("Same for all"), to: lineUsers, key: key, transport: HTTPClientTransport(policy: EgressPolicy(allow: TestBridge.standInsAllowed)))
            #expect(t.line.requests(to: "/v2/bot/message/multicast").count == 1)

            // The restart: the campaign runner settles what the stopped process (no lease, no holder) left.
            try await t.eventually("the interrupted sends settled") {
                let campaign = try await t.get("/api/v1/campaigns/\(id)").json
                return (campaign["progress"] as? [String: Int]) == ["pending": 5, "failed": 1]
            }
            _ = try await t.postJSON("/api/v1/campaigns/\(id)/resume", "{}")
            let done = try await waitForCompletion(t, id)
            #expect((done["progress"] as? [String: Int])?["sent"] == 5)
            #expect((done["progress"] as? [String: Int])?["failed"] == 1)
            // LINE was asked again under the same key and answered "already accepted": one delivery each.
            let batches = t.line.requests(to: "/v2/bot/message/multicast")
            #expect(batches.count == 2)
            #expect(Set(batches.compactMap { $0.headers["x-line-retry-key"] }) == [key])
            #expect(t.sms.requests.isEmpty)  // not resent: it may have arrived
            let failed = try await t.get("/api/v1/campaigns/\(id)/recipients?status=failed").items
            #expect((failed.first?["reason"] as? String)?.contains("interrupted") == true)
        }
    }

    /// A process stopping mid-campaign (a deploy) stops between sends: what it had not sent goes
    /// back to pending for the next process, rather than waiting out the whole campaign or being
    /// left `sending` (and then failed as interrupted) when the supervisor kills it.
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aGracefulStopGivesBackWhatItHadNotSent() async throws {
        let t = try await TestBridge.start(standIns: [.whatsapp], configure: { config in
            config.channels = config.channels.map { channel in
                guard case .whatsapp(var whatsapp) = channel else { return channel }
                whatsapp.rateLimit = RateLimit(perSecond: 5, burst: 1)
                return .whatsapp(whatsapp)
            }
        })
        for n in 0..<40 {
            let phone = String(5511900000000 + n)
            _ = try await t.postWhatsApp(Payloads.whatsapp(#""contacts":[{"profile":{"name":"C\#(n)"},"wa_id":"\#(phone)"}],"messages":[{"from":"\#(phone)","id":"wamid.G\#(n)","timestamp":"\#(Int64(Date().timeIntervalSince1970))","type":"text","text":{"body":"hi"}}]"#))
        }
        let id = try #require(try await t.postJSON("/api/v1/campaigns", #"{"name":"Deploy","audience":{"channel":"whatsapp"},"content":{"text":"Hello"},"start":true}"#).json["id"] as? Int)
        try await t.eventually("the campaign sending") { t.whatsapp.requests.count >= 2 }
        await t.bridge.stop()
        let sent = t.whatsapp.requests.count
        let states: [String: Int] = try await t.bridge.inbox.database.pool.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(
                db, sql: "SELECT status, count(*) AS n FROM campaign_recipients WHERE campaign_id = ? GROUP BY status", arguments: [id]
            ).map { ($0["status"] as String, $0["n"] as Int) })
        }
        await t.stopStandIns()
        #expect(sent < 40, "the stop waited for the whole campaign")
        #expect(states == ["sent": sent, "pending": 40 - sent])
    }

    @Test func individualMessagesReachAContactOnAnyOfTheirChannels() async throws {
        try await TestBridge.with(standIns: [.sms]) { t in
            let ann = try await t.addAgent("Ann")
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.IND1", "hello"))
            _ = try await t.postSMS(Payloads.sms("SM0000000000000000000000000000IN01", "and by text"))  // same phone: same contact
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first)
            let contact = try #require((ticket["contact"] as? [String: Any])?["id"] as? Int)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket["id"] as? Int ?? 0)", #"{"status":"closed"}"#)

            let sent = try await t.postJSON("/api/v1/contacts/\(contact)/messages", #"{"text":"Your refund was paid","channel":"sms"}"#, token: ann.token)
            #expect(sent.status == 202)
            try await t.eventually("the SMS sent") { t.sms.requests.count == 1 }
            let newTicket = try #require(sent.json["ticketId"] as? Int)
            #expect(newTicket != ticket["id"] as? Int)
            #expect(try await t.get("/api/v1/tickets/\(newTicket)").json["status"] as? String == "pending")
            #expect(try await t.postJSON("/api/v1/contacts/\(contact)/messages", #"{"text":"x","channel":"wechat"}"#).errorCode == "no_such_channel")
            #expect(try await t.postJSON("/api/v1/contacts/999/messages", #"{"text":"x"}"#).status == 404)
        }
    }

    @Test func theCommandLineSendsACampaignAndAMessage() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Self.lineTexts((1...3).map(Self.user)))
            let send = try Bridge.BroadcastCommand.Send.parse([
                "--url", t.bridge.baseURL, "--token", TestBridge.adminToken, "--name", "From the CLI", "--segment-channel", "line", "--opted-in",
                "--text", "Doors open at nine",
            ])
            try await send.run()  // returns once the campaign is done (progress bar on stderr)
            let campaign = try #require(try await t.get("/api/v1/campaigns").items.first)
            #expect(campaign["status"] as? String == "completed")
            #expect((campaign["progress"] as? [String: Int])?["sent"] == 3)
            #expect(t.line.requests(to: "/v2/bot/message/multicast").count == 1)

            let message = try Bridge.MessageCommand.Send.parse([
                "--url", t.bridge.baseURL, "--token", TestBridge.adminToken, "--contact", "2", "--text", "Your order is ready",
            ])
            try await message.run()
            try await t.eventually("the message pushed") { t.line.requests(to: "/v2/bot/message").contains { $0.text.contains("Your order is ready") } }
            let refused = try Bridge.MessageCommand.Send.parse(["--url", t.bridge.baseURL, "--token", "wrong", "--contact", "2", "--text", "x"])
            await #expect(throws: StartupError.self) { try await refused.run() }
        }
    }

    @Test func weChatFollowersOutsideTheWindowGetAMassSendOthersACustomerServiceMessage() async throws {
        try await TestBridge.with(standIns: [.wechat]) { t in
            let threeDaysAgo = Int(Date().timeIntervalSince1970) - 3 * 86400
            for (n, openId) in ["oFollowerAAAAAAAAAAAAAAAAAAA1", "oFollowerBBBBBBBBBBBBBBBBBBB2", "oFollowerCCCCCCCCCCCCCCCCCCC3"].enumerated() {
                let at = n < 2 ? threeDaysAgo : Int(Date().timeIntervalSince1970)
                let xml = "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[\(openId)]]></FromUserName><CreateTime>\(at)</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>\(7_000_000 + n)</MsgId></xml>"
                #expect(try await t.postWeChat(xml).status == 200)
            }
            let id = try #require(try await t.postJSON("/api/v1/campaigns", #"{"name":"WeChat news","audience":{"channel":"wechat"},"channel":"wechat","content":{"text":"New arrivals this week"},"start":true}"#).json["id"] as? Int)
            let done = try await waitForCompletion(t, id)
            #expect((done["progress"] as? [String: Int])?["sent"] == 3)
            let mass = t.wechat.requests(to: "/cgi-bin/message/mass/send")
            #expect(mass.count == 1)
            let body = try #require(mass.first?.json as? [String: Any])
            #expect(Set(body["touser"] as? [String] ?? []) == ["oFollowerAAAAAAAAAAAAAAAAAAA1", "oFollowerBBBBBBBBBBBBBBBBBBB2"])
            #expect((body["clientmsgid"] as? String)?.isEmpty == false)
            let custom = t.wechat.requests(to: "/cgi-bin/message/custom/send")
            #expect(custom.count == 1)
            #expect((custom.first?.json as? [String: Any])?["touser"] as? String == "oFollowerCCCCCCCCCCCCCCCCCCC3")
        }
    }
}
