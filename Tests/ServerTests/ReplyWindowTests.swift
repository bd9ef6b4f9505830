@testable import BridgeServer
import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// `replyWindows` on `GET /api/v1/tickets/{id}`: each of the contact's identities with when the
/// platform's window closes and what may go afterwards.
@Suite struct ReplyWindowTests {
    static let hour: TimeInterval = 3600

    func ticket(_ t: TestBridge, channel: String) async throws -> Int {
        try #require(try await t.get("/api/v1/tickets?channel=\(channel)").items.first?["id"] as? Int)
    }

    func contact(_ t: TestBridge, _ ticket: some BinaryInteger) async throws -> Int {
        try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int)
    }

    func windows(_ t: TestBridge, _ ticket: some BinaryInteger) async throws -> [String: [String: Any]] {
        let items = try #require(try await t.get("/api/v1/tickets/\(ticket)").json["replyWindows"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: items.map { ($0["account"] as? String ?? "", $0) })
    }

    func closes(_ window: [String: Any]?, at expected: Date) -> Bool {
        guard let text = window?["closesAt"] as? String, let date = RFC3339.dateTime(text) else { return false }
        return abs(date.timeIntervalSince(expected)) < 1
    }

    @Test func eachIdentityGetsItsPlatformsWindow() async throws {
        try await TestBridge.with(standIns: [.line, .meta]) { t in
            let now = Date()
            let line = try await t.customerWrites(Payloads.lineUser, "hello")
            let whatsappAt = now.addingTimeInterval(-2 * Self.hour)
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.RW1", "hi", at: Int64(whatsappAt.timeIntervalSince1970)))
            let messengerAt = now.addingTimeInterval(-30 * Self.hour)
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_rw1","text":"hi"}"#, at: Int64(messengerAt.timeIntervalSince1970 * 1000)))
            let instagramAt = now.addingTimeInterval(-1 * Self.hour)
            _ = try await t.postMeta(.instagram, Payloads.meta(.instagram, #""message":{"mid":"m_rw2","text":"hi"}"#, at: Int64(instagramAt.timeIntervalSince1970 * 1000)))
            _ = try await t.postWeChat(Payloads.wechatText("70001", "hi", at: Int(now.timeIntervalSince1970)))
            let whatsapp = try await ticket(t, channel: "whatsapp")
            let messenger = try await ticket(t, channel: "messenger")
            let instagram = try await ticket(t, channel: "instagram")
            let wechat = try await ticket(t, channel: "wechat")

            // One customer on LINE, WhatsApp and Messenger.
            let kenji = try await contact(t, line)
            for other in [whatsapp, messenger] {
                #expect(try await t.postJSON("/api/v1/contacts/\(kenji)/links", #"{"contactId":\#(try await contact(t, other))}"#).status == 200)
            }
            let all = try await windows(t, line)
            #expect(all.keys.sorted() == ["line/main", "messenger/main", "whatsapp/main"])
            // LINE: no window.
            #expect(all["line/main"]?["closesAt"] is NSNull && all["line/main"]?["afterwards"] is NSNull)
            #expect(all["line/main"]?["channel"] as? String == "line")
            // WhatsApp: 24 hours after the last message, then templates.
            #expect(closes(all["whatsapp/main"], at: whatsappAt.addingTimeInterval(24 * Self.hour)))
            #expect(all["whatsapp/main"]?["afterwards"] as? String == "templates")
            // Messenger, 30 hours on: the human-agent tag until 7 days, then closed.
            #expect(closes(all["messenger/main"], at: messengerAt.addingTimeInterval(7 * 24 * Self.hour)))
            #expect(all["messenger/main"]?["afterwards"] as? String == "closed")
            // Instagram within 24 hours: then the human-agent tag.
            let ig = try await windows(t, instagram)["instagram/main"]
            #expect(closes(ig, at: instagramAt.addingTimeInterval(24 * Self.hour)))
            #expect(ig?["afterwards"] as? String == "human_agent_tag")
            // WeChat: 48 hours, then closed.
            let wc = try await windows(t, wechat)["wechat/main"]
            #expect(closes(wc, at: now.addingTimeInterval(48 * Self.hour)))
            #expect(wc?["afterwards"] as? String == "closed")

            // Lists leave them out.
            #expect(try await t.get("/api/v1/tickets").items.allSatisfy { $0["replyWindows"] == nil })
        }
    }

    /// The rule table itself, as the adapters use it.
    @Test func theRulesArePerChannelKind() {
        let now = Date()
        #expect(ReplyWindow.of(.line) == nil && ReplyWindow.of(.sms) == nil)
        #expect(ReplyWindow.of(.whatsapp)?.state(lastInboundAt: nil, now: now).afterwards == .templates)
        #expect(ReplyWindow.of(.whatsapp)?.state(lastInboundAt: nil, now: now).closesAt == nil)
        let old = now.addingTimeInterval(-8 * 24 * Self.hour)
        #expect(ReplyWindow.of(.instagram)?.state(lastInboundAt: old, now: now).afterwards == .closed)
        #expect(ReplyWindow.of(.wechat)?.window == 48 * Self.hour)
    }
}
