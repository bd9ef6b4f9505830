import ChannelKit
import Foundation

/// Who a campaign goes to: listed contacts, or everyone a segment matches (all conditions hold).
public struct CampaignAudience: Sendable, Equatable, Codable {
    public var contactIds: [Int64]?
    /// Contacts tagged with any of these tags, or with a ticket carrying one.
    public var tags: [String]?
    /// Contacts with an identity on this channel (`email`: with an e-mail address).
    public var channel: String?
    /// Custom contact field values that must match.
    public var contactFields: [String: String]?
    /// The customer last wrote at or after / before.
    public var lastContactAfter: Date?
    public var lastContactBefore: Date?
    /// Only contacts who have not blocked, unfollowed or opted out on the channel they get it on.
    public var optedIn: Bool?
    /// Every follower of this account (`line/ID`), by the platform's broadcast API in one request:
    /// a whole audience of its own, reported as one recipient (contact 0).
    public var followersOf: String?

    public init() {}
}

/// What a campaign says. `text` and `template.parameters` may use `{{contact.name|fallback}}`,
/// `{{contact.email}}` and `{{contact.field.KEY}}`, filled in per recipient.
public struct CampaignContent: Sendable, Equatable, Codable {
    public var text: String?
    /// An image by https URL (the text is its caption).
    public var imageUrl: String?
    /// The approved WhatsApp template for recipients outside the 24-hour window (and used inside it too).
    public var template: Template?
    /// The Meta message tag for Messenger/Instagram recipients outside 24 hours (non-promotional updates).
    public var messengerTag: String?
    /// The e-mail subject (the campaign's name when absent).
    public var subject: String?

    public init(text: String? = nil, imageUrl: String? = nil, template: Template? = nil, messengerTag: String? = nil, subject: String? = nil) {
        self.text = text
        self.imageUrl = imageUrl
        self.template = template
        self.messengerTag = messengerTag
        self.subject = subject
    }

    /// Whether every recipient gets exactly the same words (so one request may carry many).
    public var isSameForEveryone: Bool { TemplateText.variables(in: text ?? "").isEmpty }
}

public enum CampaignStatus: String, Sendable, Codable, CaseIterable {
    case draft, scheduled, running, paused, cancelled, completed
}

/// A campaign with its progress.
public struct Campaign: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var status: CampaignStatus
    public var audience: CampaignAudience
    /// The one channel it goes out on; nil: each contact's most recently used channel.
    public var channel: String?
    public var content: CampaignContent
    public var scheduledAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var createdBy: String
    public var createdAt: Date
    /// Recipients by state (`pending`, `sending`, `sent`, `delivered`, `read`, `failed`, `skipped`, `cancelled`).
    public var progress: [String: Int]
    public var total: Int
}

/// One recipient handed to the sender: where and to whom, and what the inbox knows about the conversation.
public struct CampaignRecipient: Sendable, Equatable {
    public var id: Int64
    public var contactId: Int64
    public var account: String
    public var channel: String
    public var platformUserId: String
    public var batchKey: String?
    public var attempts: Int
    public var context: ConversationContext
    /// `{{...}}` values for this recipient.
    public var values: [String: String]

    /// The contact id of the one recipient that stands for all of an account's followers.
    public static let allFollowers: Int64 = 0
    public var isAllFollowers: Bool { contactId == Self.allFollowers }
}

/// What became of one recipient's send.
public enum RecipientOutcome: Sendable, Equatable {
    case sent(platformMessageId: String?)
    case failed(reason: String)
    case skipped(reason: String)
    case retry(at: Date, reason: String)
    /// Not sent: the campaign was paused or cancelled before its turn.
    case released
}

/// Per channel and state, with the reasons for failures and skips.
public struct CampaignReport: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        public var channel: String
        public var sent: Int
        public var delivered: Int
        public var read: Int
        public var failed: Int
        public var skipped: Int
        public var pending: Int
    }
    public struct Reason: Sendable, Equatable, Codable {
        public var status: String
        public var reason: String
        public var count: Int
    }
    public var campaignId: Int64
    public var status: CampaignStatus
    public var channels: [Row]
    public var reasons: [Reason]
}

extension Inbox {
    public func createCampaign(
        name: String, audience: CampaignAudience, channel: String?, content: CampaignContent, scheduledAt: Date?, createdBy: String
    ) async throws -> Campaign {
        try Self.checkCampaign(name: name, audience: audience, channel: channel, content: content)
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let id = try await stores.campaignStore.create(
            name: name, status: scheduledAt == nil ? .draft : .scheduled, audience: audience, channel: channel, content: content,
            scheduledAt: scheduledAt, createdBy: createdBy, now: clock())
        return try await campaign(id: id)
    }

    /// What a campaign may hold, checked alike when it is created and when it is previewed.
    static func checkCampaign(name: String, audience: CampaignAudience, channel: String?, content: CampaignContent) throws {
        guard TextRules.isName(name, maxLength: 200) else {
            throw InboxError.invalid(code: "invalid_name", message: "a campaign needs a name of 1 to 200 characters, not all blank")
        }
        guard content.text?.isEmpty == false || content.imageUrl != nil || content.template != nil else {
            throw InboxError.unprocessable(code: "no_content", message: "a campaign needs text, an imageUrl or a WhatsApp template")
        }
        _ = try audience.tags?.map(Self.tag)  // here, not when the campaign starts
        if let template = content.template, template.name.isEmpty || template.language.isEmpty {
            throw InboxError.invalid(code: "invalid_template", message: "a template needs a name and a language")
        }
        // By bytes, as openapi.yaml's pattern reads it: `hasPrefix` compares whole characters, and a
        // combining mark after the last "/" would make "https://" not a prefix.
        if let url = content.imageUrl, !url.utf8.starts(with: "https://".utf8) {
            throw InboxError.invalid(code: "invalid_image", message: "imageUrl must be an https URL")
        }
        for name in [channel, audience.channel].compactMap({ $0 }) where ChannelKind(rawValue: name) == nil && name != Self.emailChannel {
            throw InboxError.invalid(code: "invalid_channel", message: "\(name) is not a channel (line, whatsapp, messenger, instagram, sms, wechat or email)")
        }
        if let account = audience.followersOf {
            var others = audience
            others.followersOf = nil
            guard others == CampaignAudience(), channel == nil || channel == ChannelKind.line.rawValue else {
                throw InboxError.unprocessable(code: "invalid_audience", message: "followersOf is a whole audience: give no other conditions and no other channel")
            }
            guard account.hasPrefix(ChannelKind.line.rawValue + "/") else {
                throw InboxError.invalid(code: "invalid_audience", message: "followersOf names a LINE account, e.g. line/main")
            }
            guard content.isSameForEveryone, content.template == nil else {
                throw InboxError.unprocessable(code: "invalid_content", message: "a broadcast to all followers says the same to everyone: no {{…}} variables")
            }
        }
        if audience.contactIds == nil, audience == CampaignAudience() {
            throw InboxError.unprocessable(code: "no_audience", message: "name contactIds or at least one segment condition (a campaign to everyone says optedIn: true)")
        }
    }

    public func campaign(id: Int64) async throws -> Campaign {
        guard let campaign = try await stores.campaignStore.campaign(id: id) else { throw InboxError.notFound("campaign \(id)") }
        return campaign
    }

    public func campaigns() async throws -> [Campaign] {
        try await stores.campaignStore.campaigns(limit: 200)
    }

    /// Moves a campaign along: start (a draft or scheduled one: now), pause, resume, cancel.
    /// Starting resolves the audience into recipients, in the database, in one statement.
    public func changeCampaign(_ id: Int64, to action: CampaignAction) async throws -> Campaign {
        let allowed: [CampaignAction: Set<CampaignStatus>] = [
            .start: [.draft, .scheduled], .pause: [.running, .scheduled], .resume: [.paused], .cancel: [.draft, .scheduled, .running, .paused],
        ]
        switch try await stores.campaignStore.change(id, to: action, from: allowed[action] ?? [], now: clock()) {
        case .changed: break
        case .notFound: throw InboxError.notFound("campaign \(id)")
        case .refused(let status):
            throw InboxError.conflict(code: "invalid_transition", message: "a \(status.rawValue) campaign cannot \(action.rawValue)")
        }
        bus.publish([.campaignChanged(campaignId: id)])
        return try await campaign(id: id)
    }

    /// Starts the scheduled campaigns whose time has come (one process does: the `campaigns` duty).
    public func startDueCampaigns() async throws {
        for id in try await stores.campaignStore.dueScheduled(now: clock()) { _ = try? await changeCampaign(id, to: .start) }
    }

    /// The running campaigns, in id order.
    public func runningCampaigns() async throws -> [Campaign] {
        try await stores.campaignStore.running()
    }

    /// Claims recipients of a running campaign for `holder` (this process): one interrupted batch
    /// whole (to be resent under the same key), else up to `limit` pending ones that are due. They
    /// are marked `sending` before this returns. Empty when the campaign is not running.
    public func claimRecipients(campaignId: Int64, limit: Int, holder: String) async throws -> [CampaignRecipient] {
        try await stores.campaignStore.claimRecipients(campaignId: campaignId, limit: limit, holder: holder, now: clock())
    }

    /// Gives recipients a batch key before their batch is sent, so an interrupted batch is resent
    /// whole under it. Returns those `holder` still held (only they may be sent).
    public func assignBatch(_ recipientIds: [Int64], key: String, holder: String) async throws -> Set<Int64> {
        guard !recipientIds.isEmpty else { return [] }
        return try await stores.campaignStore.assignBatch(recipientIds, key: key, holder: holder)
    }

    /// Whether a campaign is still running (a sender checks between sends, so pause and cancel act at once).
    public func isCampaignRunning(_ id: Int64) async throws -> Bool {
        try await stores.campaignStore.isRunning(id)
    }

    /// Records what became of recipients `holder` still holds, in one transaction.
    public func recordOutcomes(_ outcomes: [(recipientId: Int64, outcome: RecipientOutcome)], holder: String) async throws {
        guard !outcomes.isEmpty else { return }
        try await stores.campaignStore.recordOutcomes(outcomes, holder: holder, now: clock())
    }

    /// Recipients left `sending` by a process that stopped: any holder but `holder` without a
    /// run-once lease that lasts past `grace` ago (or `holder`'s own too, when `includingOwn`,
    /// after its chunk failed). Those in a batch, or on a channel whose sends carry an
    /// idempotency key (`idempotent` accounts), go back to pending and are resent under the same
    /// key; the others are failed as "interrupted", since resending could reach the customer
    /// twice. Returns how many of each.
    @discardableResult
    public func recoverInterruptedSends(
        idempotentAccounts: Set<String>, holder: String, includingOwn: Bool = false, grace: TimeInterval
    ) async throws -> (resumed: Int, failed: Int) {
        let now = clock()
        return try await stores.campaignStore.recoverInterruptedSends(
            idempotentAccounts: idempotentAccounts, holder: holder, includingOwn: includingOwn, deadSince: now.addingTimeInterval(-grace), now: now)
    }

    public func campaignReport(id: Int64) async throws -> CampaignReport {
        guard let report = try await stores.campaignStore.report(id: id) else { throw InboxError.notFound("campaign \(id)") }
        return report
    }

    /// Recipients of a campaign, optionally in one state, after `afterId` (paging).
    public func campaignRecipients(id: Int64, status: String?, afterId: Int64, limit: Int) async throws -> [RecipientState] {
        try await stores.campaignStore.recipients(campaignId: id, status: status, afterId: afterId, limit: limit)
    }

    /// The channel (and account) of campaign messages sent by e-mail to contacts' addresses.
    public static let emailChannel = "email"
}

public enum CampaignAction: String, Sendable, CaseIterable {
    case start, pause, resume, cancel
}

/// A recipient as the API lists it.
public struct RecipientState: Sendable, Equatable, Codable {
    public var id: Int64
    public var contactId: Int64
    public var channel: String?
    public var status: String
    public var reason: String?
    public var platformMessageId: String?
    public var updatedAt: Date
}

extension Inbox {
    /// The ticket an individual message to a contact goes in: their current ticket, or a new one
    /// (pending: the bridge spoke first) on the identity of `channel` or their most recently used one.
    public func ticketForOutreach(contactId: Int64, channel: String?, by actor: Caller) async throws -> Int64 {
        let (ticketId, created) = try await stores.campaignStore.ticketForOutreach(
            contactId: contactId, channel: channel, by: actor.label, now: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) })
        if created { bus.publish([.ticketOpened(ticketId: ticketId)]) }
        return ticketId
    }
}
