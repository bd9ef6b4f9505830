import ChannelKit
import Foundation

/// Where campaigns and their recipients are kept. One implementation per database
/// (`SQLiteCampaignStore`, `PostgresCampaignStore` in PostgresStore), held to one contract
/// (Tests/StoreTests/Contract/CampaignContractTests.swift). Each method is one transaction with
/// no policy: what a campaign may hold, and who may change it, is the domain's (`Inbox`'s
/// campaign methods, which also publish on the bus). Times are passed in.
///
/// Recipients are not a `LeaseQueue`, though they are claimed like one. A lease queue claims a row
/// again once its lease runs out; a recipient left `sending` by a stopped process must not be
/// (resending could reach the customer twice): `recoverInterruptedSends` decides per recipient.
/// Every process sends campaigns, each under its `holder` name (`RunOnceLeaser.holder`): a claim
/// marks the rows it takes `sending` with the holder in the statement that selects them (on
/// PostgreSQL under the campaign row's lock, so claims of one campaign take turns and never split
/// a batch), every later write to a recipient (its batch key, its outcome) lands only while its
/// holder still holds it, and a holder is alive while it has an unexpired row in
/// `run_once_leases` (its leaser renews them every few seconds). The in-flight state is the
/// `sending` status, which the report and the API show.
public protocol CampaignStore: EmailOptOutStore {
    /// Adds a campaign (`draft` or `scheduled`) and returns its id.
    func create(
        name: String, status: CampaignStatus, audience: CampaignAudience, channel: String?, content: CampaignContent, scheduledAt: Date?,
        createdBy: String, now: Date
    ) async throws -> Int64

    /// Who a campaign to `audience` on `channel` would go to if it started at `now`, keeping
    /// nothing: the audience is resolved by the statement `change(.start)` runs, into a campaign
    /// that is rolled back, and each pending recipient is read as `claimRecipients` reads it.
    /// A followers-of audience is the one recipient that stands for all followers.
    func preview(audience: CampaignAudience, channel: String?, now: Date) async throws -> [PreviewedRecipient]

    /// A campaign with its progress, or nil.
    func campaign(id: Int64) async throws -> Campaign?

    /// The newest `limit` campaigns, newest first, with their progress.
    func campaigns(limit: Int) async throws -> [Campaign]

    /// Moves a campaign along if its status is one of `from`, in one transaction: `start` resolves
    /// the audience into recipients and runs it; `resume` runs it (resolving the audience first
    /// if it never started); `pause` pauses it; `cancel` cancels it and its pending recipients.
    func change(_ id: Int64, to action: CampaignAction, from: Set<CampaignStatus>, now: Date) async throws -> CampaignChange

    /// Scheduled campaigns whose time has come.
    func dueScheduled(now: Date) async throws -> [Int64]

    /// Running campaigns in id order, without their progress.
    func running() async throws -> [Campaign]

    /// Whether a campaign is running.
    func isRunning(_ id: Int64) async throws -> Bool

    /// Marks recipients of a running campaign `sending` for `holder` and returns them: the pending
    /// ones of ONE interrupted batch, whole (to be resent under its key: a batch split between two
    /// claims would go out in part, its key then spent), else up to `limit` pending ones due at
    /// `now`, in id order. A running campaign with nothing pending or sending left is completed.
    /// Empty when the campaign is not running.
    func claimRecipients(campaignId: Int64, limit: Int, holder: String, now: Date) async throws -> [CampaignRecipient]

    /// Gives recipients `holder` still holds a batch key before their batch is sent; returns the
    /// ids it gave one (a recipient settled meanwhile as a dead holder's is left out).
    func assignBatch(_ recipientIds: [Int64], key: String, holder: String) async throws -> Set<Int64>

    /// Records what became of recipients `holder` still holds; an outcome for a recipient settled
    /// meanwhile (its holder was taken for dead) is dropped: the settling stands.
    func recordOutcomes(_ outcomes: [(recipientId: Int64, outcome: RecipientOutcome)], holder: String, now: Date) async throws

    /// Settles, in one statement, the recipients left `sending` by holders that are not alive: no
    /// `run_once_leases` row of theirs expires after `deadSince` (some seconds before `now`, so a
    /// process whose clock runs a little behind is not taken for dead). `holder`'s own rows are
    /// settled only when `includingOwn` (after one of its chunks failed half way: nothing of its
    /// own is in flight then). Those in a batch or on an `idempotentAccounts` account go back to
    /// pending (or are cancelled with their campaign), the others are failed as interrupted.
    /// Returns how many went back and how many failed.
    func recoverInterruptedSends(
        idempotentAccounts: Set<String>, holder: String, includingOwn: Bool, deadSince: Date, now: Date
    ) async throws -> (resumed: Int, failed: Int)

    /// A campaign's recipients per channel and state, with the reasons; nil for no such campaign.
    func report(id: Int64) async throws -> CampaignReport?

    /// A campaign's recipients, optionally in one state, after `afterId`, in id order.
    func recipients(campaignId: Int64, status: String?, afterId: Int64, limit: Int) async throws -> [RecipientState]

    /// The ticket an individual message to a contact goes in: their newest ticket that is not
    /// closed or spam, else a new `pending` one (the bridge spoke first) on the identity of
    /// `channel` (any channel when nil) the customer last wrote from, with its history entry
    /// (`opened_for_outreach` by `actor`). `check` is asked about a new ticket's place before it
    /// commits; when it throws nothing is opened. `notFound` for no such contact, `no_such_channel`
    /// when it has no such identity. Two processes asking at once for one contact open one ticket.
    func ticketForOutreach(contactId: Int64, channel: String?, by actor: String, now: Date, check: @escaping TicketCheck) async throws
        -> (ticketId: Int64, opened: Bool)
}

/// What a `CampaignStore.change` did.
public enum CampaignChange: Sendable, Equatable {
    case changed
    case notFound
    /// The campaign's status is not one the action starts from; nothing changed.
    case refused(from: CampaignStatus)
}

extension InboxError {
    package static func noOutreachChannel(contactId: Int64, channel: String?) -> InboxError {
        .unprocessable(code: "no_such_channel", message: "contact \(contactId) has no \(channel ?? "channel") identity")
    }
}

// MARK: - Shared by the implementations (no SQL)

extension Campaign {
    /// A campaign from its stored columns (JSON as text, times in ms).
    package init(
        id: Int64, name: String, status: String, audience: String, channel: String?, content: String, scheduledAt: Int64?, startedAt: Int64?,
        finishedAt: Int64?, createdBy: String, createdAt: Int64, progress: [String: Int]
    ) throws {
        self.init(
            id: id, name: name, status: try UnknownStoredValue.decode(status, as: CampaignStatus.self, column: "status"),
            audience: try ContentCoding.decode(CampaignAudience.self, audience), channel: channel,
            content: try ContentCoding.decode(CampaignContent.self, content), scheduledAt: scheduledAt.map { Date(ms: $0) },
            startedAt: startedAt.map { Date(ms: $0) }, finishedAt: finishedAt.map { Date(ms: $0) }, createdBy: createdBy,
            createdAt: Date(ms: createdAt), progress: progress, total: progress.values.reduce(0, +))
    }
}

extension CampaignAudience {
    /// As stored in `campaigns.audience`.
    package func stored() throws -> String { try ContentCoding.encode(self) }
    /// The tags as stored on contacts and tickets (trimmed, lower case); the domain checked them.
    package func storedTags() throws -> [String] { try (tags ?? []).map(Inbox.tag) }
    /// JSON text of a list, as the SQLite statements read it with `json_each`.
    package static func json(_ values: some Encodable) throws -> String { try ContentCoding.encode(values) }
}

extension CampaignContent {
    /// As stored in `campaigns.content`.
    package func stored() throws -> String { try ContentCoding.encode(self) }
}

extension CampaignRecipient {
    /// What a claim reads of a recipient's identity.
    package struct IdentityFacts: Sendable {
        package var platformUserId: String
        package var lastInboundAt: Int64?
        package var blocked: Bool

        package init(platformUserId: String, lastInboundAt: Int64?, blocked: Bool) {
            self.platformUserId = platformUserId
            self.lastInboundAt = lastInboundAt
            self.blocked = blocked
        }
    }

    /// What a claim makes of a recipient row: someone to send to, or a reason to skip them now,
    /// which the store records in the claim's transaction (a row left `sending` unsent would keep
    /// its campaign running until a restart).
    package enum Claim {
        case send(CampaignRecipient)
        case skip(reason: String)
    }

    /// A claimed recipient from what the store read. Skipped: no address to send to (an identity
    /// or e-mail address removed since the audience was resolved), or an e-mail address put on the
    /// opt-out list since then (`emailOptedOut`: unsubscribing takes effect in a campaign already
    /// running, not only in the next). A campaign never spends the customer's reply token: that is
    /// for the agent's answer.
    package static func claimed(
        id: Int64, contactId: Int64, account: String, channel: String, batchKey: String?, attempts: Int, contactName: String?,
        contactEmail: String?, emailOptedOut: Bool, identity: IdentityFacts?, fields: [String: String], now: Date
    ) -> Claim {
        var values: [String: String] = [:]
        values["contact.name"] = contactName
        values["contact.email"] = contactEmail
        for (key, value) in fields { values["contact.field.\(key)"] = value }
        var context = ConversationContext(now: now)
        let address: String
        if contactId == allFollowers {
            address = ""
        } else if channel == Inbox.emailChannel {
            guard let contactEmail else { return .skip(reason: PreviewedRecipient.noAddress) }
            guard !emailOptedOut else { return .skip(reason: Inbox.unsubscribedReason) }
            address = contactEmail
        } else {
            guard let identity else { return .skip(reason: PreviewedRecipient.noAddress) }
            address = identity.platformUserId
            context = ConversationContext(
                lastInboundAt: identity.lastInboundAt.map { Date(ms: $0) }, recipientBlocked: identity.blocked, now: now)
        }
        return .send(CampaignRecipient(
            id: id, contactId: contactId, account: account, channel: channel, platformUserId: address, batchKey: batchKey, attempts: attempts,
            context: context, values: values))
    }
}

extension CampaignReport {
    /// A report from counts per channel (nil: `-`) and state, and counts per ended state and reason.
    package init(
        campaignId: Int64, status: String, counts: [(channel: String?, status: String, count: Int)], reasons: [(status: String, reason: String?, count: Int)]
    ) {
        var rows: [String: Row] = [:]
        for (channel, state, n) in counts {
            let channel = channel ?? "-"
            var entry = rows[channel] ?? Row(channel: channel, sent: 0, delivered: 0, read: 0, failed: 0, skipped: 0, pending: 0)
            switch state {
            case "sent": entry.sent += n
            case "delivered": entry.delivered += n
            case "read": entry.read += n
            case "failed": entry.failed += n
            case "skipped", "cancelled": entry.skipped += n
            default: entry.pending += n
            }
            rows[channel] = entry
        }
        self.init(
            campaignId: campaignId, status: CampaignStatus(rawValue: status) ?? .draft, channels: rows.values.sorted { $0.channel < $1.channel },
            reasons: reasons.map { Reason(status: $0.status, reason: $0.reason ?? "", count: $0.count) })
    }
}

extension RecipientOutcome {
    /// The reason stored for a recipient left `sending` by a stopped process and not resent.
    package static let interruptedReason =
        "interrupted by a restart while sending; not resent, so the customer cannot get it twice (it may have arrived)"
}

extension RecipientState {
    package init(id: Int64, contactId: Int64, channel: String?, status: String, reason: String?, platformMessageId: String?, updatedAtMs: Int64) {
        self.init(
            id: id, contactId: contactId, channel: channel, status: status, reason: reason, platformMessageId: platformMessageId,
            updatedAt: Date(ms: updatedAtMs))
    }
}
