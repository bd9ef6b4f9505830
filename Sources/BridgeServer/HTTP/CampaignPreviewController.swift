import Broadcast
import ChannelKit
import Foundation
import Hummingbird
import SMSChannel
import UniversalInbox

/// `POST /api/v1/campaigns/preview` (owners and admins): before a campaign is created, how many
/// contacts its audience holds, how many of them each channel would skip and why, and what each
/// channel's message would say. The audience is resolved by the statement a start runs (rolled
/// back), and each recipient is planned by the sender's own `CampaignPlanner`, so the preview and
/// the send cannot disagree about who is skipped (except for what changes in between).
struct CampaignPreviewController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    let accounts: any BroadcastAccounts

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("campaigns/preview") { request, context in
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            let audience = try CampaignsController.audience(body.audience, registry: registry)
            try CampaignsController.check(body.content)
            let at = try body.scheduledAt.map { try TicketFilter.dateTime($0, "scheduledAt") }
            let found = try await inbox.previewCampaign(name: body.name, audience: audience, channel: body.channel, content: body.content, at: at)
            return JSONResponse.make(preview(found, name: body.name ?? "", content: body.content, at: at ?? Date()))
        }
    }

    struct Body: Decodable {
        var name: String?
        var audience: CampaignsController.Body.Audience
        var channel: String?
        var content: CampaignContent
        var scheduledAt: String?
    }

    /// The figures per channel: each recipient planned as the sender would plan them now.
    func preview(_ found: [PreviewedRecipient], name: String, content: CampaignContent, at: Date) -> PreviewDTO {
        let planner = CampaignPlanner(accounts: accounts)
        var rows: [String: PreviewDTO.Channel] = [:]
        var batched: [String: (channel: String, count: Int)] = [:]
        func count(_ channel: String?, send: Bool, reason: String? = nil) {
            let key = channel ?? "-"
            var row = rows[key] ?? PreviewDTO.Channel(channel: key, recipients: 0, willSend: 0, skipped: 0, reasons: [])
            row.recipients += 1
            if send { row.willSend += 1 } else { row.skipped += 1 }
            if let reason {
                if let i = row.reasons.firstIndex(where: { $0.reason == reason }) { row.reasons[i].count += 1 } else { row.reasons.append(.init(reason: reason, count: 1)) }
            }
            rows[key] = row
        }
        var sample: CampaignRecipient?
        for entry in found {
            switch entry {
            case .skipped(let channel, let reason): count(channel, send: false, reason: reason)
            case .recipient(let recipient):
                sample = sample ?? recipient
                if recipient.isAllFollowers { count(recipient.channel, send: true); continue }
                switch planner.plan(recipient, campaignId: 0, name: name, content: content) {
                case .batch: batched[recipient.account, default: (recipient.channel, 0)].count += 1
                case .single: count(recipient.channel, send: true)
                case .skip(let reason): count(recipient.channel, send: false, reason: reason)
                }
            }
        }
        // Batch recipients an account has too few of for one batch request are skipped, as the sender skips them.
        for (account, group) in batched {
            let tooFew = planner.batchSize(of: account).map { group.count < $0.lowerBound } ?? false
            let reason = planner.batchSize(of: account).map { CampaignPlanner.tooFewForBatch(account: account, size: $0) }
            for _ in 0..<group.count { count(group.channel, send: !tooFew, reason: tooFew ? reason : nil) }
        }
        let channels = rows.values.sorted { $0.channel < $1.channel }.map { row in
            var row = row
            row.reasons.sort { ($1.count, $0.reason) < ($0.count, $1.reason) }
            return row
        }
        let values = sample?.values ?? [:]
        // The e-mail channel kind and the e-mail relay share the name `email`: one message for it.
        let messages = (ChannelKind.allCases.map(\.rawValue).filter { $0 != Inbox.emailChannel } + [Inbox.emailChannel]).map { channel in
            var recipient = sample ?? .sample(channel: channel, values: values, now: at)
            recipient.channel = channel
            return PreviewDTO.Message(CampaignPlanner.message(for: recipient, campaignId: 0, name: name, content: content), channel: channel, content: content)
        }
        return PreviewDTO(
            total: found.count, willSend: channels.map(\.willSend).reduce(0, +), skipped: channels.map(\.skipped).reduce(0, +),
            sampleContactId: sample.map(\.contactId), channels: channels, messages: messages)
    }

    struct PreviewDTO: Encodable {
        struct Channel: Encodable {
            struct Reason: Encodable {
                var reason: String
                var count: Int
            }
            var channel: String
            var recipients: Int
            var willSend: Int
            var skipped: Int
            var reasons: [Reason]
        }

        /// What one channel's message would say to the sample contact.
        struct Message: Encodable {
            var channel: String
            var kind: String
            var text: String?
            var imageUrl: String?
            var template: Template?
            var messengerTag: String?
            var subject: String?
            var segments: MessageSegments?

            init(_ message: OutboundMessage, channel: String, content: CampaignContent) {
                self.channel = channel
                kind = message.content.kind.rawValue
                text = message.content.text
                imageUrl = message.content.media?.url
                template = message.content.template
                messengerTag = [ChannelKind.messenger.rawValue, ChannelKind.instagram.rawValue].contains(channel) ? content.messengerTag : nil
                subject = channel == Inbox.emailChannel ? message.subject : nil
                if channel == ChannelKind.sms.rawValue, let text = message.content.text, !text.isEmpty {
                    let counted = SMSSegments.count(text)
                    segments = MessageSegments(count: counted.segments, encoding: counted.encoding.rawValue)
                }
            }
        }

        var total: Int
        var willSend: Int
        var skipped: Int
        /// The contact whose `{{…}}` values fill the messages (the audience's first), if any.
        var sampleContactId: Int64?
        var channels: [Channel]
        var messages: [Message]
    }
}
