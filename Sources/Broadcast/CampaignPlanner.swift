import ChannelKit
import Foundation
import UniversalInbox

/// What the sender does with one claimed recipient: put them in a batch, send them their own
/// message, or skip them with the platform's reason. `CampaignSender.sendChunk` acts on it and the
/// console's preview counts it, so what the preview says will be skipped is what the send skips.
public struct CampaignPlanner: Sendable {
    public let accounts: any BroadcastAccounts

    public init(accounts: any BroadcastAccounts) {
        self.accounts = accounts
    }

    public enum Plan: Sendable {
        /// Same words for everyone on a channel that sends batches (LINE multicast, WeChat mass send).
        case batch
        case single(OutboundMessage, any MessageSender)
        case skip(reason: String)
    }

    /// The plan for a recipient that is not in a batch yet and does not stand for all followers.
    public func plan(_ recipient: CampaignRecipient, campaignId: Int64, name: String, content: CampaignContent) -> Plan {
        guard let adapter = accounts.adapter(for: recipient.account) else {
            return .skip(reason: "channel account \(recipient.account) is not configured")
        }
        let message = Self.message(for: recipient, campaignId: campaignId, name: name, content: content)
        if let batching = adapter as? any BatchSending, content.isSameForEveryone, batching.prefersBatch(message) {
            return .batch
        } else if let refusal = adapter.refusal(for: message) {
            return .skip(reason: refusal.reason)
        }
        return .single(message, adapter)
    }

    /// The recipient's own message: the campaign's content in their channel's form, filled in for them.
    public static func message(for recipient: CampaignRecipient, campaignId: Int64, name: String, content: CampaignContent) -> OutboundMessage {
        var context = recipient.context
        context.purpose = .broadcast(messageTag: content.messengerTag)
        return OutboundMessage(
            id: CampaignMessage.key("campaign", String(campaignId), "recipient", String(recipient.id)), recipient: recipient.platformUserId,
            content: CampaignMessage.content(content, channel: recipient.channel, values: recipient.values), context: context,
            subject: TemplateText.fill(content.subject ?? name, recipient.values))
    }

    /// The smallest and largest batch `account` sends, when it sends batches.
    public func batchSize(of account: String) -> ClosedRange<Int>? {
        (accounts.adapter(for: account) as? any BatchSending)?.batchRecipients
    }

    /// Why a group of batch recipients too small for the platform's batch request is skipped.
    public static func tooFewForBatch(account: String, size: ClosedRange<Int>) -> String {
        "\(account) sends to followers outside its window only in groups of at least \(size.lowerBound)"
    }
}
