import ChannelKit
import Foundation
import GRDB

/// `CampaignStore` on SQLite. SQLite's single writer makes a claim's select-then-mark atomic.
public struct SQLiteCampaignStore: CampaignStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func create(
        name: String, status: CampaignStatus, audience: CampaignAudience, channel: String?, content: CampaignContent, scheduledAt: Date?,
        createdBy: String, now: Date
    ) async throws -> Int64 {
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO campaigns (name, status, audience, channel, content, scheduled_at, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, status.rawValue, try audience.stored(), channel, try content.stored(), scheduledAt?.ms, createdBy, now.ms, now.ms])
            return db.lastInsertedRowID
        }
    }

    public func campaign(id: Int64) async throws -> Campaign? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [id]).map { try Self.campaign($0, db) }
        }
    }

    public func campaigns(limit: Int) async throws -> [Campaign] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM campaigns ORDER BY id DESC LIMIT ?", arguments: [limit]).map { try Self.campaign($0, db) }
        }
    }

    public func change(_ id: Int64, to action: CampaignAction, from allowed: Set<CampaignStatus>, now: Date) async throws -> CampaignChange {
        let now = now.ms
        return try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, audience, channel, started_at FROM campaigns WHERE id = ?", arguments: [id]) else {
                return .notFound
            }
            let status = try row.decode("status", as: CampaignStatus.self)
            guard allowed.contains(status) else { return .refused(from: status) }
            switch action {
            case .start, .resume:
                // A paused scheduled campaign that never started starts now.
                if action == .start || (row["started_at"] as Int64?) == nil {
                    try Self.resolveAudience(
                        db, campaignId: id, audience: try ContentCoding.decode(CampaignAudience.self, row["audience"]), channel: row["channel"], now: now)
                }
                try db.execute(
                    sql: "UPDATE campaigns SET status = 'running', started_at = \(action == .start ? "?" : "coalesce(started_at, ?)"), updated_at = ? WHERE id = ?",
                    arguments: [now, now, id])
            case .pause:
                try db.execute(sql: "UPDATE campaigns SET status = 'paused', updated_at = ? WHERE id = ?", arguments: [now, id])
            case .cancel:
                try db.execute(
                    sql: "UPDATE campaign_recipients SET status = 'cancelled', reason = 'campaign cancelled', updated_at = ? WHERE campaign_id = ? AND status = 'pending'",
                    arguments: [now, id])
                try db.execute(sql: "UPDATE campaigns SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, id])
            }
            return .changed
        }
    }

    public func dueScheduled(now: Date) async throws -> [Int64] {
        try await database.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= ?", arguments: [now.ms])
        }
    }

    public func running() async throws -> [Campaign] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM campaigns WHERE status = 'running' ORDER BY id").map { try Self.campaign($0, db, withProgress: false) }
        }
    }

    public func isRunning(_ id: Int64) async throws -> Bool {
        try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [id]) == CampaignStatus.running.rawValue
        }
    }

    public func claimRecipients(campaignId: Int64, limit: Int, holder: String, now: Date) async throws -> [CampaignRecipient] {
        try await database.pool.write { db in
            guard try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [campaignId]) == CampaignStatus.running.rawValue else {
                return []
            }
            var rows = try Row.fetchAll(db, sql: """
                SELECT r.* FROM campaign_recipients r
                WHERE r.campaign_id = ? AND r.status = 'pending' AND r.batch_key = (
                    SELECT batch_key FROM campaign_recipients
                    WHERE campaign_id = ? AND status = 'pending' AND batch_key IS NOT NULL ORDER BY batch_key LIMIT 1)
                ORDER BY r.id
                """, arguments: [campaignId, campaignId])
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
                sql: "UPDATE campaign_recipients SET status = 'sending', holder = ?, updated_at = ? WHERE id IN (\(LeaseQueue.list(ids)))",
                arguments: [holder, now.ms])
            var recipients: [CampaignRecipient] = []
            for row in rows {
                switch try Self.claimed(row, db, now: now) {
                case .send(let recipient): recipients.append(recipient)
                case .skip(let reason):
                    try db.execute(
                        sql: "UPDATE campaign_recipients SET status = 'skipped', reason = ?, updated_at = ? WHERE id = ?",
                        arguments: [reason, now.ms, row["id"] as Int64])
                }
            }
            return recipients
        }
    }

    /// A recipient row as a claim hands it to the sender, or why it is skipped now.
    static func claimed(_ row: Row, _ db: Database, now: Date) throws -> CampaignRecipient.Claim {
        let identity = try db.cachedStatement(sql: "SELECT platform_user_id, last_inbound_at, blocked FROM identities WHERE id = ?")
        let contact = try db.cachedStatement(sql: "SELECT display_name, email FROM contacts WHERE id = ?")
        let contactId: Int64 = row["contact_id"]
        let contactRow = try Row.fetchOne(contact, arguments: [contactId])
        let email: String? = contactRow?["email"]
        let optedOut = try email.map {
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM email_opt_outs WHERE address = lower(?)"), arguments: [$0]) != nil
        } ?? false
        let identityRow = try Row.fetchOne(identity, arguments: [row["identity_id"] as Int64?])
        return CampaignRecipient.claimed(
            id: row["id"], contactId: contactId, account: row["account"], channel: row["channel"], batchKey: row["batch_key"],
            attempts: row["attempts"], contactName: contactRow?["display_name"], contactEmail: email, emailOptedOut: optedOut,
            identity: identityRow.map {
                .init(platformUserId: $0["platform_user_id"], lastInboundAt: $0["last_inbound_at"], blocked: $0["blocked"] as Bool? ?? false)
            },
            fields: try SQLiteCustomFieldStore.values(db, scope: .contact, subject: contactId), now: now)
    }

    public func preview(audience: CampaignAudience, channel: String?, now: Date) async throws -> [PreviewedRecipient] {
        try await database.pool.write { db in
            var found: [PreviewedRecipient] = []
            // Everything below is undone: the preview keeps no campaign and no recipient.
            try db.inSavepoint {
                try db.execute(sql: """
                    INSERT INTO campaigns (name, status, audience, channel, content, created_by, created_at, updated_at)
                    VALUES ('preview', 'draft', ?, ?, '{}', 'preview', ?, ?)
                    """, arguments: [try audience.stored(), channel, now.ms, now.ms])
                let id = db.lastInsertedRowID
                try Self.resolveAudience(db, campaignId: id, audience: audience, channel: channel, now: now.ms)
                for row in try Row.fetchAll(db, sql: "SELECT * FROM campaign_recipients WHERE campaign_id = ? ORDER BY id", arguments: [id]) {
                    let status: String = row["status"]
                    guard status == "pending" else {
                        found.append(.skipped(channel: row["channel"], reason: row["reason"] ?? PreviewedRecipient.noAddress))
                        continue
                    }
                    switch try Self.claimed(row, db, now: now) {
                    case .send(let recipient): found.append(.recipient(recipient))
                    case .skip(let reason): found.append(.skipped(channel: row["channel"], reason: reason))
                    }
                }
                return .rollback
            }
            return found
        }
    }

    public func assignBatch(_ recipientIds: [Int64], key: String, holder: String) async throws -> Set<Int64> {
        try await database.pool.write { db in
            Set(try Int64.fetchAll(db, sql: """
                UPDATE campaign_recipients SET batch_key = ?
                WHERE id IN (\(LeaseQueue.list(recipientIds))) AND \(Self.held)
                RETURNING id
                """, arguments: [key, holder]))
        }
    }

    /// The condition every write to a claimed recipient carries (`holder` its last argument): the
    /// writer still holds it.
    static let held = "status = 'sending' AND holder = ?"

    public func recordOutcomes(_ outcomes: [(recipientId: Int64, outcome: RecipientOutcome)], holder: String, now: Date) async throws {
        let now = now.ms
        try await database.pool.write { db in
            let sent = try db.cachedStatement(sql: """
                UPDATE campaign_recipients SET status = 'sent', platform_message_id = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND \(Self.held)
                """)
            let done = try db.cachedStatement(sql: """
                UPDATE campaign_recipients SET status = ?, reason = ?, attempts = attempts + ?, updated_at = ? WHERE id = ? AND \(Self.held)
                """)
            let retry = try db.cachedStatement(sql: """
                UPDATE campaign_recipients SET status = 'pending', reason = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
                WHERE id = ? AND \(Self.held)
                """)
            let release = try db.cachedStatement(sql: """
                UPDATE campaign_recipients SET
                    status = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
                    reason = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled' THEN 'campaign cancelled' ELSE reason END,
                    updated_at = ?
                WHERE id = ? AND \(Self.held)
                """)
            for (id, outcome) in outcomes {
                switch outcome {
                case .released: try release.execute(arguments: [now, id, holder])
                case .sent(let platformId): try sent.execute(arguments: [platformId, now, id, holder])
                case .failed(let reason): try done.execute(arguments: ["failed", reason, 1, now, id, holder])
                case .skipped(let reason): try done.execute(arguments: ["skipped", reason, 0, now, id, holder])
                case .retry(let at, let reason): try retry.execute(arguments: [reason, at.ms, now, id, holder])
                }
            }
        }
    }

    public func recoverInterruptedSends(
        idempotentAccounts: Set<String>, holder: String, includingOwn: Bool, deadSince: Date, now: Date
    ) async throws -> (resumed: Int, failed: Int) {
        try await database.pool.write { db in
            // One statement: rows in flight for a holder that is not alive (or this one, when asked).
            let statuses = try String.fetchAll(db, sql: """
                UPDATE campaign_recipients SET
                    status = CASE WHEN NOT (\(Self.resumable)) THEN 'failed' WHEN \(Self.cancelled) THEN 'cancelled' ELSE 'pending' END,
                    reason = CASE WHEN NOT (\(Self.resumable)) THEN ? WHEN \(Self.cancelled) THEN 'campaign cancelled' ELSE reason END,
                    updated_at = ?
                WHERE status = 'sending' AND (
                    (? AND holder = ?) OR (holder IS NOT ? AND NOT EXISTS (
                        SELECT 1 FROM run_once_leases l WHERE l.holder = campaign_recipients.holder AND l.expires_at > ?)))
                RETURNING status
                """, arguments: [
                    try CampaignAudience.json(idempotentAccounts.sorted()), try CampaignAudience.json(idempotentAccounts.sorted()),
                    RecipientOutcome.interruptedReason, now.ms, includingOwn, holder, holder, deadSince.ms,
                ])
            return (statuses.filter { $0 != "failed" }.count, statuses.filter { $0 == "failed" }.count)
        }
    }

    /// A settled recipient may be sent again: its batch goes again under its key, or its account's
    /// sends carry one (`?`: the idempotent accounts as a JSON array).
    static let resumable = "batch_key IS NOT NULL OR account IN (SELECT value FROM json_each(?))"
    /// Its campaign was cancelled.
    static let cancelled = "(SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled'"

    public func report(id: Int64) async throws -> CampaignReport? {
        try await database.pool.read { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [id]) else { return nil }
            let counts = try Row.fetchAll(
                db, sql: "SELECT channel, status, count(*) AS n FROM campaign_recipients WHERE campaign_id = ? GROUP BY channel, status", arguments: [id]
            ).map { (channel: $0["channel"] as String?, status: $0["status"] as String, count: $0["n"] as Int) }
            let reasons = try Row.fetchAll(db, sql: """
                SELECT status, reason, count(*) AS n FROM campaign_recipients
                WHERE campaign_id = ? AND status IN ('failed', 'skipped', 'cancelled') GROUP BY status, reason ORDER BY n DESC LIMIT 50
                """, arguments: [id]).map { (status: $0["status"] as String, reason: $0["reason"] as String?, count: $0["n"] as Int) }
            return CampaignReport(campaignId: id, status: status, counts: counts, reasons: reasons)
        }
    }

    public func recipients(campaignId: Int64, status: String?, afterId: Int64, limit: Int) async throws -> [RecipientState] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, contact_id, channel, status, reason, platform_message_id, updated_at FROM campaign_recipients
                WHERE campaign_id = ? AND (? IS NULL OR status = ?) AND id > ? ORDER BY id LIMIT ?
                """, arguments: [campaignId, status, status, afterId, limit]
            ).map {
                RecipientState(
                    id: $0["id"], contactId: $0["contact_id"], channel: $0["channel"], status: $0["status"], reason: $0["reason"],
                    platformMessageId: $0["platform_message_id"], updatedAt: Date(ms: $0["updated_at"]))
            }
        }
    }

    /// Puts every contact the audience matches into the campaign, each on one identity: the chosen
    /// channel's, or the contact's most recently used (else their e-mail address when the campaign
    /// may go by e-mail). Contacts without one are skipped with the reason, as are those it would
    /// e-mail at an address on the opt-out list (`unsubscribed`). All in one statement.
    static func resolveAudience(_ db: Database, campaignId: Int64, audience: CampaignAudience, channel: String?, now: Int64) throws {
        let email = Inbox.emailChannel
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
            campaignId, channel == email ? "no e-mail address" : "no identity on \(channel ?? "any channel") and no e-mail address", now,
        ]
        let pick = channel.map { _ in "AND i2.channel = ?" } ?? ""
        if let channel { _ = arguments.append(contentsOf: [channel]) }
        if let ids = audience.contactIds {
            conditions.append("c.id IN (SELECT value FROM json_each(?))")
            _ = arguments.append(contentsOf: [try CampaignAudience.json(ids)])
        }
        if let tags = audience.tags, !tags.isEmpty {
            let wanted = try CampaignAudience.json(try audience.storedTags())
            conditions.append("""
                (EXISTS (SELECT 1 FROM contact_tags k WHERE k.contact_id = c.id AND k.tag IN (SELECT value FROM json_each(?)))
                 OR EXISTS (SELECT 1 FROM tickets t JOIN ticket_tags g ON g.ticket_id = t.id WHERE t.contact_id = c.id AND g.tag IN (SELECT value FROM json_each(?))))
                """)
            _ = arguments.append(contentsOf: [wanted, wanted])
        }
        if audience.channel == email {
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
                CASE WHEN i.id IS NULL AND e.channel IS NULL THEN 'skipped' WHEN \(Inbox.optedOutCondition(lowered: Inbox.sqliteLoweredEmail)) THEN 'skipped' ELSE 'pending' END,
                CASE WHEN i.id IS NULL AND e.channel IS NULL THEN ? WHEN \(Inbox.optedOutCondition(lowered: Inbox.sqliteLoweredEmail)) THEN '\(Inbox.unsubscribedReason)' END, ?
            FROM contacts c
            LEFT JOIN identities i ON i.id = (
                SELECT i2.id FROM identities i2 WHERE i2.contact_id = c.id \(pick) ORDER BY coalesce(i2.last_inbound_at, 0) DESC, i2.id DESC LIMIT 1)
            LEFT JOIN (SELECT '\(email)' AS channel) e ON coalesce(c.email, '') <> '' AND \(channel == nil || channel == email ? "1" : "0")
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
        return try Campaign(
            id: id, name: row["name"], status: row["status"], audience: row["audience"], channel: row["channel"], content: row["content"],
            scheduledAt: row["scheduled_at"], startedAt: row["started_at"], finishedAt: row["finished_at"], createdBy: row["created_by"],
            createdAt: row["created_at"], progress: progress)
    }
}

extension Inbox {
    /// `SQLiteCampaignStore.resolveAudience` inside a caller's transaction, for tests that set up
    /// a campaign's state by hand (e.g. as a process stopped mid-send leaves it).
    static func resolveAudience(_ db: Database, campaignId: Int64, audience: CampaignAudience, channel: String?, now: Int64) throws {
        try SQLiteCampaignStore.resolveAudience(db, campaignId: campaignId, audience: audience, channel: channel, now: now)
    }
}

// MARK: - Outreach tickets on SQLite

extension SQLiteCampaignStore {
    public func ticketForOutreach(contactId: Int64, channel: String?, by actor: String, now: Date, check: @escaping TicketCheck) async throws
        -> (ticketId: Int64, opened: Bool)
    {
        try await database.pool.write { db in
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
            else { throw InboxError.noOutreachChannel(contactId: contactId, channel: channel) }
            try db.execute(sql: """
                INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?)
                """, arguments: [contactId, identity, now.ms, now.ms])
            let id = db.lastInsertedRowID
            // A ticket the sender could not answer is not opened at all (the transaction rolls back).
            try check(id, [TicketPlace(agentId: nil, departmentId: nil)])
            try SQLiteTicketStore.record(db, ticketId: id, "opened_for_outreach", by: actor, [:], at: now.ms)
            return (id, true)
        }
    }
}
