import ChannelKit
import Foundation
import PostgresStore
import Testing
import UniversalInbox

/// `CampaignStore.preview` as every implementation must keep it: the audience resolves as a start
/// resolves it (same recipients, same channels, same skips with their reasons), each recipient is
/// read as a claim reads it (address, window, blocked, `{{…}}` values), and nothing is kept.
@Suite struct CampaignPreviewContractTests {
    private static func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

    /// (contact, channel, skip reason or nil), in the order the recipients were resolved.
    private static func summary(_ found: [PreviewedRecipient]) -> [String] {
        found.map {
            switch $0 {
            case .recipient(let r): "\(r.contactId) \(r.channel) \(r.platformUserId)"
            case .skipped(let channel, let reason): "skipped \(channel ?? "-") \(reason)"
            }
        }
    }

    /// Listed contacts on LINE: Kim and Lee by their LINE ids, Max and Noa skipped (no LINE, no
    /// e-mail) with the reason a start stores; the preview equals what starting then resolves.
    @Test(arguments: StoreKind.available)
    func aPreviewResolvesAsAStartAndKeepsNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in CampaignContractTests.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let audience = CampaignContractTests.audience(contactIds: [1, 2, 3, 4])
            let found = try await store.preview(audience: audience, channel: "line", now: Self.at(5))
            let reason = "no identity on line and no e-mail address"
            #expect(Self.summary(found) == ["1 line U1", "2 line U2", "skipped - \(reason)", "skipped - \(reason)"])
            // Nothing kept: no campaign, no recipient.
            #expect(try await store.campaigns(limit: 10).isEmpty)
            let id = try await CampaignContractTests.started(store, audience, channel: "line")
            #expect(
                try await CampaignContractTests.recipients(store, id).map { "\($0.contact) \($0.status) \($0.reason ?? "")" }
                    == ["1 pending ", "2 pending ", "3 skipped \(reason)", "4 skipped \(reason)"])
            #expect(try await store.campaigns(limit: 10).map(\.id) == [id])
        }
    }

    /// Each contact on their most recent channel, read as a claim reads them: Kim on WhatsApp with
    /// her window and her `{{contact.field.tier}}`; Max's identity is blocked (the sender's rules
    /// decide what that means); a segment by tag keeps its conditions.
    @Test(arguments: StoreKind.available)
    func recipientsAreReadAsAClaimReadsThem(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in CampaignContractTests.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let found = try await store.preview(audience: CampaignContractTests.audience(contactIds: [1, 3]), channel: nil, now: Self.at(5))
            guard case .recipient(let kim) = try #require(found.first), case .recipient(let max) = try #require(found.last) else {
                Issue.record("expected two recipients, got \(found)")
                return
            }
            #expect(kim.contactId == 1 && kim.channel == "whatsapp" && kim.account == "whatsapp/main" && kim.platformUserId == "15550001")
            #expect(kim.context.lastInboundAt == Date(ms: 200) && kim.context.now == Self.at(5) && !kim.context.recipientBlocked)
            #expect(kim.values["contact.name"] == "Kim" && kim.values["contact.field.tier"] == "gold" && kim.values["contact.email"] == "kim@example.com")
            #expect(max.contactId == 3 && max.context.recipientBlocked)
            let vip = try await store.preview(audience: CampaignContractTests.audience(tags: ["vip"]), channel: nil, now: Self.at(5))
            #expect(Self.summary(vip) == ["2 line U2", "3 whatsapp 15550003"])
            var optedIn = CampaignContractTests.audience(tags: ["vip"])
            optedIn.optedIn = true
            #expect(Self.summary(try await store.preview(audience: optedIn, channel: nil, now: Self.at(5))) == ["2 line U2"])
        }
    }
}
