@testable import BridgeServer
import Foundation
import Testing

/// `POST /api/v1/campaigns/preview` against the platform stand-ins: who each channel would skip and
/// why, counted by the sender's own rules, equals what the campaign then does; nothing is kept.
@Suite struct CampaignPreviewTests {
    /// Per channel: (recipients, willSend, skipped, reasons).
    static func channels(_ preview: [String: Any]) -> [String: (Int, Int, Int, [String])] {
        Dictionary(uniqueKeysWithValues: (preview["channels"] as? [[String: Any]] ?? []).map { row in
            let reasons = (row["reasons"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            return (row["channel"] as? String ?? "", (row["recipients"] as? Int ?? -1, row["willSend"] as? Int ?? -1, row["skipped"] as? Int ?? -1, reasons))
        })
    }

    @Test func thePreviewCountsWhatTheSendThenDoes() async throws {
        try await TestBridge.with(standIns: [.line, .whatsapp, .meta, .sms]) { t in
            // As in CampaignTests: three LINE customers (one blocked), WhatsApp two days ago, SMS
            // STOP, Messenger last week; and contact 7 that is not on LINE at all (a second identity-less contact).
            _ = try await t.postLINE(CampaignTests.lineTexts((1...3).map(CampaignTests.user)))
            _ = try await t.postLINE(#"{"destination":"Ubot","events":[{"type":"unfollow","timestamp":1700000000000,"webhookEventId":"01UNFOLLOW3","deliveryContext":{"isRedelivery":false},"mode":"active","source":{"type":"user","userId":"\#(CampaignTests.user(3))"}}]}"#)
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.OLD1", "hi", at: Int64(Date().timeIntervalSince1970) - 2 * 86400))
            _ = try await t.postSMS(Payloads.sms("SM0000000000000000000000000000CA01", "STOP", from: "+15550009999"))
            let lastWeek = Int64(Date().timeIntervalSince1970 * 1000) - 8 * 86_400_000
            _ = try await t.postMeta(.messenger, Payloads.meta(.messenger, #""message":{"mid":"m_old","text":"hello"}"#, at: lastWeek))
            let body = #"{"name":"November news","audience":{"contactIds":[1,2,3,4,5,6]},"content":{"text":"Hi {{contact.name|there}}, セール開始!"}}"#

            let answer = try await t.postJSON("/api/v1/campaigns/preview", body)
            #expect(answer.status == 200)
            let preview = answer.json
            #expect(preview["total"] as? Int == 6 && preview["willSend"] as? Int == 2 && preview["skipped"] as? Int == 4)
            let rows = Self.channels(preview)
            #expect(rows["line"]?.0 == 3 && rows["line"]?.1 == 2 && rows["line"]?.2 == 1)
            #expect(rows["line"]?.3.contains { $0.contains("blocked") } == true)
            #expect(rows["whatsapp"]?.2 == 1 && rows["whatsapp"]?.3.contains { $0.contains("template") } == true)
            #expect(rows["sms"]?.2 == 1 && rows["sms"]?.3.contains { $0.contains("STOP") } == true)
            #expect(rows["messenger"]?.2 == 1 && rows["messenger"]?.3.contains { $0.contains("message tag") } == true)
            // Each channel's message for the first contact; the SMS in UCS-2 (Japanese), one part.
            let messages = Dictionary(uniqueKeysWithValues: (preview["messages"] as? [[String: Any]] ?? []).map { ($0["channel"] as? String ?? "", $0) })
            #expect(preview["sampleContactId"] as? Int == 1)
            #expect((messages["line"]?["text"] as? String)?.hasPrefix("Hi ") == true && (messages["line"]?["text"] as? String)?.contains("{{") == false)
            let segments = messages["sms"]?["segments"] as? [String: Any]
            #expect(segments?["encoding"] as? String == "ucs2" && segments?["count"] as? Int == 1)
            #expect(messages["email"]?["subject"] as? String == "November news")
            // Nothing was kept.
            #expect(try await t.get("/api/v1/campaigns").items.isEmpty)

            // The campaign itself skips exactly whom the preview said, for the same reasons.
            let created = try await t.postJSON("/api/v1/campaigns", String(body.dropLast()) + #","start":true}"#)
            let id = try #require(created.json["id"] as? Int)
            try await t.eventually("campaign \(id) completed", timeout: .seconds(20)) {
                try await t.get("/api/v1/campaigns/\(id)").json["status"] as? String == "completed"
            }
            let report = try await t.get("/api/v1/campaigns/\(id)/report").json
            for row in report["channels"] as? [[String: Any]] ?? [] {
                let channel = row["channel"] as? String ?? ""
                #expect(row["sent"] as? Int == rows[channel]?.1, "sent on \(channel)")
                #expect(row["skipped"] as? Int == rows[channel]?.2, "skipped on \(channel)")
            }
            let reasons = Set((report["reasons"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String })
            #expect(reasons == Set(rows.values.flatMap(\.3)))
        }
    }

    /// A contact with no identity on the chosen channel is skipped with the reason a start stores;
    /// a preview is refused as creating would be.
    @Test func skipsAtResolutionAndRefusals() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(CampaignTests.lineTexts([CampaignTests.user(1)]))
            let preview = try await t.postJSON(
                "/api/v1/campaigns/preview", #"{"audience":{"contactIds":[1]},"channel":"sms","content":{"text":"hi"}}"#).json
            #expect(preview["total"] as? Int == 1 && preview["willSend"] as? Int == 0)
            #expect(Self.channels(preview)["-"]?.3 == ["no identity on sms and no e-mail address"])
            let none = try await t.postJSON("/api/v1/campaigns/preview", #"{"audience":{},"content":{"text":"hi"}}"#)
            #expect(none.status == 422 && (none.json["error"] as? [String: Any])?["code"] as? String == "no_audience")
            let noContent = try await t.postJSON("/api/v1/campaigns/preview", #"{"audience":{"contactIds":[1]},"content":{}}"#)
            #expect(noContent.status == 422)
            #expect(try await t.get("/api/v1/campaigns").items.isEmpty)
        }
    }
}
