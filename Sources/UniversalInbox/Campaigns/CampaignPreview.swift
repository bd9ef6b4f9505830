import ChannelKit
import Foundation

/// One contact a campaign's audience resolves to, as a preview sees it before anything is kept:
/// the recipient exactly as a claim hands it to the sender, or skipped already when the audience
/// is resolved (no address on the channel it would go on).
public enum PreviewedRecipient: Sendable, Equatable {
    case recipient(CampaignRecipient)
    case skipped(channel: String?, reason: String)

    /// The reason for a resolved recipient whose address is gone by the time it is read (a claim
    /// would not hand it to the sender either).
    public static let noAddress = "no address to send to"
}

extension Inbox {
    /// Who a campaign would go to if it started at `at` (now when nil), without creating it: the
    /// audience is resolved by the statement `start` runs, in a transaction that is rolled back,
    /// and each recipient read as a claim reads it (so the sender's rules can be applied to it).
    /// The campaign is checked as `createCampaign` checks it; `name` may be left out.
    public func previewCampaign(
        name: String?, audience: CampaignAudience, channel: String?, content: CampaignContent, at: Date?
    ) async throws -> [PreviewedRecipient] {
        try Self.checkCampaign(name: name ?? "preview", audience: audience, channel: channel, content: content)
        return try await stores.campaignStore.preview(audience: audience, channel: channel, now: at ?? clock())
    }
}

extension CampaignRecipient {
    /// A stand-in recipient on `channel` with these `{{…}}` values, for showing what a channel's
    /// message would say when the audience has nobody there to take the values from.
    public static func sample(channel: String, values: [String: String], now: Date) -> CampaignRecipient {
        CampaignRecipient(
            id: 0, contactId: -1, account: channel, channel: channel, platformUserId: "", batchKey: nil, attempts: 0,
            context: ConversationContext(now: now), values: values)
    }
}
