import ChannelKit
import Foundation
import GRDB

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
        guard TextRules.isName(name, maxLength: 200) else {
            throw InboxError.invalid(code: "invalid_name", message: "a campaign needs a name of 1 to 200 characters, not all blank")
        }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard content.text?.isEmpty == false || content.imageUrl != nil || content.template != nil else {
            throw InboxError.unprocessable(code: "no_content", message: "a campaign needs text, an imageUrl or a WhatsApp template")
        }
        _ = try audience.tags?.map(Self.tag)  // here, not when the campaign starts
        if let template = content.template, template.name.isEmpty || template.language.isEmpty {
            throw InboxError.invalid(code: "invalid_template", message: "a template needs a name and a language")
        }
        if let url = content.imageUrl, !url.hasPrefix("https://") { throw InboxError.invalid(code: "invalid_image", message: "imageUrl must be an https URL") }
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
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO campaigns (name, status, audience, channel, content, scheduled_at, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    name, (scheduledAt == nil ? CampaignStatus.draft : .scheduled).rawValue, try ContentCoding.encode(audience), channel,
                    try ContentCoding.encode(content), scheduledAt?.ms, createdBy, now, now,
                ])
            return db.lastInsertedRowID
        }
        return try await campaign(id: id)
    }

    public func campaign(id: Int64) async throws -> Campaign {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("campaign \(id)")
            }
            return try Self.campaign(row, db)
        }
    }

    public func campaigns() async throws -> [Campaign] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM campaigns ORDER BY id DESC LIMIT 200").map { try Self.campaign($0, db) } }
    }

    /// Moves a campaign along: start (a draft or scheduled one: now), pause, resume, cancel.
    /// Starting resolves the audience into recipients, in the database, in one statement.
    public func changeCampaign(_ id: Int64, to action: CampaignAction) async throws -> Campaign {
        let now = clock().ms
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, audience, channel FROM campaigns WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("campaign \(id)")
            }
            let status = try row.decode("status", as: CampaignStatus.self)
            let allowed: [CampaignAction: Set<CampaignStatus>] = [
                .start: [.draft, .scheduled], .pause: [.running, .scheduled], .resume: [.paused], .cancel: [.draft, .scheduled, .running, .paused],
            ]
            guard allowed[action]?.contains(status) == true else {
                throw InboxError.conflict(code: "invalid_transition", message: "a \(status.rawValue) campaign cannot \(action.rawValue)")
            }
            switch action {
            case .start:
                try Self.resolveAudience(db, campaignId: id, audience: try ContentCoding.decode(CampaignAudience.self, row["audience"]), channel: row["channel"], now: now)
                try db.execute(sql: "UPDATE campaigns SET status = 'running', started_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, id])
            case .pause:
                try db.execute(sql: "UPDATE campaigns SET status = 'paused', updated_at = ? WHERE id = ?", arguments: [now, id])
            case .resume:
                // A paused scheduled campaign that never started starts now.
                let started = try Bool.fetchOne(db, sql: "SELECT started_at IS NOT NULL FROM campaigns WHERE id = ?", arguments: [id]) ?? false
                if !started {
                    try Self.resolveAudience(db, campaignId: id, audience: try ContentCoding.decode(CampaignAudience.self, row["audience"]), channel: row["channel"], now: now)
                }
                try db.execute(sql: "UPDATE campaigns SET status = 'running', started_at = coalesce(started_at, ?), updated_at = ? WHERE id = ?", arguments: [now, now, id])
            case .cancel:
                try db.execute(
                    sql: "UPDATE campaign_recipients SET status = 'cancelled', reason = 'campaign cancelled', updated_at = ? WHERE campaign_id = ? AND status = 'pending'",
                    arguments: [now, id])
                try db.execute(sql: "UPDATE campaigns SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, id])
            }
        }
        bus.publish([.campaignChanged(campaignId: id)])
        return try await campaign(id: id)
    }

    /// Campaigns due to go: running ones, and scheduled ones whose time has come (started here).
    public func runnableCampaigns() async throws -> [Campaign] {
        let now = clock().ms
        let due = try await database.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= ?", arguments: [now])
        }
        for id in due { _ = try? await changeCampaign(id, to: .start) }
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM campaigns WHERE status = 'running' ORDER BY id").map { try Self.campaign($0, db, withProgress: false) }
        }
    }

    /// Leases up to `limit` recipients of a running campaign: first those of a batch that was
    /// interrupted (to be resent under the same key), then pending ones that are due. They are
    /// marked `sending` before this returns. Empty when the campaign is not running.
    public func claimRecipients(campaignId: Int64, limit: Int) async throws -> [CampaignRecipient] {
        let now = clock()
        return try await database.pool.write { db in
            guard try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [campaignId]) == CampaignStatus.running.rawValue else {
                return []
            }
            var rows = try Row.fetchAll(db, sql: """
                SELECT r.* FROM campaign_recipients r
                WHERE r.campaign_id = ? AND r.status = 'pending' AND r.batch_key IS NOT NULL ORDER BY r.batch_key, r.id LIMIT ?
                """, arguments: [campaignId, limit])
            if rows.isEmpty {
                rows = try Row.fetchAll(db, sql: """
                    SELECT r.* FROM campaign_recipients r
                    WHERE r.campaign_id = ? AND r.status = 'pending' AND r.next_attempt_at <= ? ORDER BY r.id LIMIT ?
                    """, arguments: [campaignId, now.ms, limit])
            }
            guard !rows.isEmpty else {
                // Nothing left to send and nothing in flight: the campaign is done.
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM campaign_recipients WHERE campaign_id = ? AND status IN ('pending', 'sending') LIMIT 1", arguments: [campaignId]) == nil {
                    try db.execute(
                        sql: "UPDATE campaigns SET status = 'completed', finished_at = ?, updated_at = ? WHERE id = ? AND status = 'running'",
                        arguments: [now.ms, now.ms, campaignId])
                }
                return []
            }
            let ids = rows.map { $0["id"] as Int64 }
            try db.execute(
                sql: "UPDATE campaign_recipients SET status = 'sending', updated_at = ? WHERE id IN (\(ids.map(String.init).joined(separator: ",")))",
                arguments: [now.ms])
            let identity = try db.cachedStatement(sql: "SELECT * FROM identities WHERE id = ?")
            let contact = try db.cachedStatement(sql: "SELECT display_name, email FROM contacts WHERE id = ?")
            return try rows.compactMap { row in
                let contactId: Int64 = row["contact_id"]
                var values: [String: String] = [:]
                let contactRow = try Row.fetchOne(contact, arguments: [contactId])
                if let c = contactRow {
                    values["contact.name"] = c["display_name"]
                    values["contact.email"] = c["email"]
                }
                for (key, value) in try Self.fieldValues(db, scope: .contact, subject: contactId) { values["contact.field.\(key)"] = value }
                var context = ConversationContext(now: now)
                let address: String
                if contactId == CampaignRecipient.allFollowers {
                    address = ""
                } else if row["channel"] == Self.emailChannel {
                    guard let email: String = contactRow?["email"] else { return nil }
                    address = email
                } else {
                    guard let identityRow = try Row.fetchOne(identity, arguments: [row["identity_id"] as Int64?]) else { return nil }
                    address = identityRow["platform_user_id"]
                    // A campaign never spends the customer's reply token: that is for the agent's answer.
                    context = Self.context(identityRow, now: now)
                    context.replyToken = nil
                    context.replyTokenIssuedAt = nil
                }
                return CampaignRecipient(
                    id: row["id"], contactId: contactId, account: row["account"], channel: row["channel"], platformUserId: address,
                    batchKey: row["batch_key"], attempts: row["attempts"], context: context, values: values)
            }
        }
    }

    /// Gives recipients a batch key before their batch is sent, so an interrupted batch is resent whole under it.
    public func assignBatch(_ recipientIds: [Int64], key: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE campaign_recipients SET batch_key = ? WHERE id IN (\(recipientIds.map(String.init).joined(separator: ",")))", arguments: [key])
        }
    }

    /// Whether a campaign is still running (a sender checks between sends, so pause and cancel act at once).
    public func isCampaignRunning(_ id: Int64) async throws -> Bool {
        try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [id]) == CampaignStatus.running.rawValue
        }
    }

    /// Records what became of recipients, in one transaction.
    public func recordOutcomes(_ outcomes: [(recipientId: Int64, outcome: RecipientOutcome)]) async throws {
        guard !outcomes.isEmpty else { return }
        let now = clock().ms
        try await database.pool.write { db in
            let sent = try db.cachedStatement(sql: "UPDATE campaign_recipients SET status = 'sent', platform_message_id = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?")
            let done = try db.cachedStatement(sql: "UPDATE campaign_recipients SET status = ?, reason = ?, attempts = attempts + ?, updated_at = ? WHERE id = ?")
            let retry = try db.cachedStatement(sql: """
                UPDATE campaign_recipients SET status = 'pending', reason = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ? WHERE id = ?
                """)
            let release = try db.cachedStatement(sql: """
                UPDATE campaign_recipients SET
                    status = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
                    reason = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled' THEN 'campaign cancelled' ELSE reason END,
                    updated_at = ?
                WHERE id = ?
                """)
            for (id, outcome) in outcomes {
                switch outcome {
                case .released: try release.execute(arguments: [now, id])
                case .sent(let platformId): try sent.execute(arguments: [platformId, now, id])
                case .failed(let reason): try done.execute(arguments: ["failed", reason, 1, now, id])
                case .skipped(let reason): try done.execute(arguments: ["skipped", reason, 0, now, id])
                case .retry(let at, let reason): try retry.execute(arguments: [reason, at.ms, now, id])
                }
            }
        }
    }

    /// After a restart: recipients left `sending` by the stopped process. Those in a batch, or on a
    /// channel whose sends carry an idempotency key (`idempotent` accounts), go back to pending and
    /// are resent under the same key; the others are failed as "interrupted", since resending
    /// could reach the customer twice. Returns how many of each.
    @discardableResult
    public func recoverInterruptedSends(idempotentAccounts: Set<String>) async throws -> (resumed: Int, failed: Int) {
        let now = clock().ms
        return try await database.pool.write { db in
            let accounts = idempotentAccounts.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ",")
            try db.execute(sql: """
                UPDATE campaign_recipients SET status = 'pending', updated_at = ?
                WHERE status = 'sending' AND (batch_key IS NOT NULL OR account IN (\(accounts.isEmpty ? "NULL" : accounts)))
                """, arguments: [now])
            let resumed = db.changesCount
            try db.execute(sql: """
                UPDATE campaign_recipients SET status = 'failed', reason = 'interrupted by a restart while sending; not resent, so the customer cannot get it twice (it may have arrived)', updated_at = ?
                WHERE status = 'sending'
                """, arguments: [now])
            return (resumed, db.changesCount)
        }
    }

    public func campaignReport(id: Int64) async throws -> CampaignReport {
        try await database.pool.read { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("campaign \(id)")
            }
            var rows: [String: CampaignReport.Row] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT coalesce(channel, '-') AS channel, status, count(*) AS n FROM campaign_recipients WHERE campaign_id = ? GROUP BY 1, 2
                """, arguments: [id]) {
                let channel: String = row["channel"]
                var entry = rows[channel] ?? CampaignReport.Row(channel: channel, sent: 0, delivered: 0, read: 0, failed: 0, skipped: 0, pending: 0)
                let n: Int = row["n"]
                switch row["status"] as String {
                case "sent": entry.sent += n
                case "delivered": entry.delivered += n
                case "read": entry.read += n
                case "failed": entry.failed += n
                case "skipped", "cancelled": entry.skipped += n
                default: entry.pending += n
                }
                rows[channel] = entry
            }
            let reasons = try Row.fetchAll(db, sql: """
                SELECT status, reason, count(*) AS n FROM campaign_recipients
                WHERE campaign_id = ? AND status IN ('failed', 'skipped', 'cancelled') GROUP BY status, reason ORDER BY n DESC LIMIT 50
                """, arguments: [id]).map { CampaignReport.Reason(status: $0["status"], reason: $0["reason"] ?? "", count: $0["n"]) }
            return CampaignReport(
                campaignId: id, status: CampaignStatus(rawValue: status) ?? .draft, channels: rows.values.sorted { $0.channel < $1.channel }, reasons: reasons)
        }
    }

    /// Recipients of a campaign, optionally in one state, after `afterId` (paging).
    public func campaignRecipients(id: Int64, status: String?, afterId: Int64, limit: Int) async throws -> [RecipientState] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, contact_id, channel, status, reason, platform_message_id, updated_at FROM campaign_recipients
                WHERE campaign_id = ? AND (? IS NULL OR status = ?) AND id > ? ORDER BY id LIMIT ?
                """, arguments: [id, status, status, afterId, limit]
            ).map {
                RecipientState(
                    id: $0["id"], contactId: $0["contact_id"], channel: $0["channel"], status: $0["status"], reason: $0["reason"],
                    platformMessageId: $0["platform_message_id"], updatedAt: Date(ms: $0["updated_at"]))
            }
        }
    }

    /// Puts every contact the audience matches into the campaign, each on one identity: the chosen
    /// channel's, or the contact's most recently used. Contacts without one are skipped with the reason.
    /// The channel (and account) of campaign messages sent by e-mail to contacts' addresses.
    public static let emailChannel = "email"

    static func resolveAudience(_ db: Database, campaignId: Int64, audience: CampaignAudience, channel: String?, now: Int64) throws {
        if let account = audience.followersOf {
            try db.execute(sql: """
                INSERT OR IGNORE INTO campaign_recipients (campaign_id, contact_id, account, channel, status, updated_at) VALUES (?, ?, ?, ?, 'pending', ?)
                """, arguments: [campaignId, CampaignRecipient.allFollowers, account, ChannelKind.line.rawValue, now])
            try db.execute(sql: "UPDATE campaigns SET audience_size = 1 WHERE id = ?", arguments: [campaignId])
            return
        }
        var conditions: [String] = []
        // In the order of the statement's placeholders: the SELECT's, the identity pick's, the conditions'.
        var arguments: StatementArguments = [
            campaignId, channel == Self.emailChannel ? "no e-mail address" : "no identity on \(channel ?? "any channel") and no e-mail address", now,
        ]
        let pick = channel.map { _ in "AND i2.channel = ?" } ?? ""
        if let channel { _ = arguments.append(contentsOf: [channel]) }
        if let ids = audience.contactIds {
            conditions.append("c.id IN (SELECT value FROM json_each(?))")
            _ = arguments.append(contentsOf: [try ContentCoding.encode(ids)])
        }
        if let tags = audience.tags, !tags.isEmpty {
            let wanted = try ContentCoding.encode(try tags.map(Self.tag))
            conditions.append("""
                (EXISTS (SELECT 1 FROM contact_tags k WHERE k.contact_id = c.id AND k.tag IN (SELECT value FROM json_each(?)))
                 OR EXISTS (SELECT 1 FROM tickets t JOIN ticket_tags g ON g.ticket_id = t.id WHERE t.contact_id = c.id AND g.tag IN (SELECT value FROM json_each(?))))
                """)
            _ = arguments.append(contentsOf: [wanted, wanted])
        }
        if audience.channel == Self.emailChannel {
            conditions.append("coalesce(c.email, '') <> ''")
        } else if let segmentChannel = audience.channel {
            conditions.append("EXISTS (SELECT 1 FROM identities s WHERE s.contact_id = c.id AND s.channel = ?)")
            _ = arguments.append(contentsOf: [segmentChannel])
        }
        for (key, value) in (audience.contactFields ?? [:]).sorted(by: { $0.key < $1.key }) {
            conditions.append("""
                EXISTS (SELECT 1 FROM contact_fields f JOIN custom_fields d ON d.id = f.field_id
                        WHERE f.contact_id = c.id AND d.scope = 'contact' AND d.key = ? AND f.value = ?)
                """)
            _ = arguments.append(contentsOf: [key, value])
        }
        if let after = audience.lastContactAfter {
            conditions.append("(SELECT max(last_inbound_at) FROM identities s WHERE s.contact_id = c.id) >= ?")
            _ = arguments.append(contentsOf: [after.ms])
        }
        if let before = audience.lastContactBefore {
            conditions.append("(SELECT max(last_inbound_at) FROM identities s WHERE s.contact_id = c.id) < ?")
            _ = arguments.append(contentsOf: [before.ms])
        }
        if audience.optedIn == true { conditions.append("(i.id IS NULL OR i.blocked = 0)") }
        try db.execute(sql: """
            INSERT OR IGNORE INTO campaign_recipients (campaign_id, contact_id, identity_id, account, channel, status, reason, updated_at)
            SELECT ?, c.id, i.id, coalesce(i.account, e.channel), coalesce(i.channel, e.channel),
                CASE WHEN i.id IS NULL AND e.channel IS NULL THEN 'skipped' ELSE 'pending' END, CASE WHEN i.id IS NULL AND e.channel IS NULL THEN ? END, ?
            FROM contacts c
            LEFT JOIN identities i ON i.id = (
                SELECT i2.id FROM identities i2 WHERE i2.contact_id = c.id \(pick) ORDER BY coalesce(i2.last_inbound_at, 0) DESC, i2.id DESC LIMIT 1)
            LEFT JOIN (SELECT '\(Self.emailChannel)' AS channel) e ON coalesce(c.email, '') <> '' AND \(channel == nil || channel == Self.emailChannel ? "1" : "0")
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY c.id
            """, arguments: arguments)
        try db.execute(
            sql: "UPDATE campaigns SET audience_size = (SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?) WHERE id = ?",
            arguments: [campaignId, campaignId])
    }

    /// A campaign row; its progress (a count over its recipients) only when asked.
    static func campaign(_ row: Row, _ db: Database, withProgress: Bool = true) throws -> Campaign {
        let id: Int64 = row["id"]
        var progress: [String: Int] = [:]
        if withProgress {
            for p in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM campaign_recipients WHERE campaign_id = ? GROUP BY status", arguments: [id]) {
                progress[p["status"]] = p["n"]
            }
        }
        return Campaign(
            id: id, name: row["name"], status: try row.decode("status", as: CampaignStatus.self),
            audience: try ContentCoding.decode(CampaignAudience.self, row["audience"]), channel: row["channel"],
            content: try ContentCoding.decode(CampaignContent.self, row["content"]), scheduledAt: (row["scheduled_at"] as Int64?).map { Date(ms: $0) },
            startedAt: (row["started_at"] as Int64?).map { Date(ms: $0) }, finishedAt: (row["finished_at"] as Int64?).map { Date(ms: $0) },
            createdBy: row["created_by"], createdAt: Date(ms: row["created_at"]), progress: progress, total: progress.values.reduce(0, +))
    }
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
        let now = clock().ms
        let (ticketId, created): (Int64, Bool) = try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [contactId]) != nil else {
                throw InboxError.notFound("contact \(contactId)")
            }
            if let current = try Int64.fetchOne(
                db, sql: "SELECT id FROM tickets WHERE contact_id = ? AND status NOT IN ('closed', 'spam') ORDER BY id DESC LIMIT 1", arguments: [contactId])
            {
                return (current, false)
            }
            guard let identity = try Int64.fetchOne(db, sql: """
                SELECT id FROM identities WHERE contact_id = ? AND (? IS NULL OR channel = ?) ORDER BY coalesce(last_inbound_at, 0) DESC, id DESC LIMIT 1
                """, arguments: [contactId, channel, channel])
            else { throw InboxError.unprocessable(code: "no_such_channel", message: "contact \(contactId) has no \(channel ?? "channel") identity") }
            try db.execute(sql: """
                INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?)
                """, arguments: [contactId, identity, now, now])
            let id = db.lastInsertedRowID
            // A ticket the sender could not answer is not opened at all (the transaction rolls back).
            try Self.authorize(db, actor, ticketId: id, for: .answer)
            try Self.record(db, ticketId: id, "opened_for_outreach", by: actor.label, [:], at: now)
            return (id, true)
        }
        if created { bus.publish([.ticketOpened(ticketId: ticketId)]) }
        return ticketId
    }
}
