import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `CampaignStore` on PostgreSQL, for several bridge processes on one database.
///
/// **A claim is one statement per kind of recipient**: the recipients are selected and locked
/// `FOR UPDATE SKIP LOCKED` and marked `sending` together. Two processes claiming one campaign at
/// once never get the same recipient: a row another claim has locked is passed by, and one that
/// a claim committed after this statement's snapshot is re-checked under its lock (no longer
/// `pending`) and dropped. A campaign is completed only when no recipient is pending or sending,
/// so a claim that passed by another's locked rows does not complete it.
///
/// A change locks the campaign's row (`FOR UPDATE`), so two changes of one campaign, e.g. two
/// processes starting it, go one after the other and the second sees what the first did.
public struct PostgresCampaignStore: CampaignStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(
        name: String, status: CampaignStatus, audience: CampaignAudience, channel: String?, content: CampaignContent, scheduledAt: Date?,
        createdBy: String, now: Date
    ) async throws -> Int64 {
        let rows = try await client.query("""
            INSERT INTO campaigns (name, status, audience, channel, content, scheduled_at, created_by, created_at, updated_at)
            VALUES (\(name), \(status.rawValue), \(try audience.stored()), \(channel), \(try content.stored()), \(scheduledAt?.ms), \(createdBy),
                \(now.ms), \(now.ms))
            RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw PostgresCampaignStoreError.noRowReturned
    }

    public func campaign(id: Int64) async throws -> Campaign? {
        try await campaigns(.id(id), withProgress: true).first
    }

    public func campaigns(limit: Int) async throws -> [Campaign] {
        try await campaigns(.newest(limit: limit), withProgress: true)
    }

    public func change(_ id: Int64, to action: CampaignAction, from allowed: Set<CampaignStatus>, now: Date) async throws -> CampaignChange {
        let now = now.ms
        return try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT status, audience, channel, started_at FROM campaigns WHERE id = \(id) FOR UPDATE", logger: logger)
            var found: (status: String, audience: String, channel: String?, startedAt: Int64?)?
            for try await row in rows.decode((String, String, String?, Int64?).self) { found = row }
            guard let found else { return .notFound }
            let status = try UnknownStoredValue.decode(found.status, as: CampaignStatus.self, column: "status")
            guard allowed.contains(status) else { return .refused(from: status) }
            switch action {
            case .start, .resume:
                // A paused scheduled campaign that never started starts now.
                if action == .start || found.startedAt == nil {
                    let audience = try JSONDecoder().decode(CampaignAudience.self, from: Data(found.audience.utf8))
                    try await resolveAudience(on: connection, campaignId: id, audience: audience, channel: found.channel, now: now)
                }
                let startedAt: PostgresQuery =
                    action == .start
                    ? "UPDATE campaigns SET status = 'running', started_at = \(now), updated_at = \(now) WHERE id = \(id)"
                    : "UPDATE campaigns SET status = 'running', started_at = coalesce(started_at, \(now)), updated_at = \(now) WHERE id = \(id)"
                try await connection.query(startedAt, logger: logger)
            case .pause:
                try await connection.query("UPDATE campaigns SET status = 'paused', updated_at = \(now) WHERE id = \(id)", logger: logger)
            case .cancel:
                try await connection.query("""
                    UPDATE campaign_recipients SET status = 'cancelled', reason = 'campaign cancelled', updated_at = \(now)
                    WHERE campaign_id = \(id) AND status = 'pending'
                    """, logger: logger)
                try await connection.query(
                    "UPDATE campaigns SET status = 'cancelled', finished_at = \(now), updated_at = \(now) WHERE id = \(id)", logger: logger)
            }
            return .changed
        }
    }

    public func dueScheduled(now: Date) async throws -> [Int64] {
        var ids: [Int64] = []
        let rows = try await client.query("SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= \(now.ms) ORDER BY id", logger: logger)
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids
    }

    public func running() async throws -> [Campaign] {
        try await campaigns(.running, withProgress: false)
    }

    public func isRunning(_ id: Int64) async throws -> Bool {
        let rows = try await client.query("SELECT status FROM campaigns WHERE id = \(id)", logger: logger)
        for try await status in rows.decode(String.self) { return status == CampaignStatus.running.rawValue }
        return false
    }

    public func claimRecipients(campaignId: Int64, limit: Int, holder: String, now: Date) async throws -> [CampaignRecipient] {
        let nowMs = now.ms
        return try await client.transaction(logger: logger) { connection in
            // The campaign row's lock makes claims of one campaign take turns: SKIP LOCKED alone
            // could hand two processes one interrupted batch in two parts.
            var status: String?
            let campaign = try await connection.query("SELECT status FROM campaigns WHERE id = \(campaignId) FOR UPDATE", logger: logger)
            for try await value in campaign.decode(String.self) { status = value }
            guard status == CampaignStatus.running.rawValue, limit > 0 else { return [] }
            // One interrupted batch whole first (resent under its key), then the due ones.
            var ids = try await claim(on: connection, campaignId: campaignId, ofBatches: true, limit: limit, holder: holder, now: nowMs)
            if ids.isEmpty { ids = try await claim(on: connection, campaignId: campaignId, ofBatches: false, limit: limit, holder: holder, now: nowMs) }
            guard !ids.isEmpty else {
                // Nothing left to send and nothing in flight: the campaign is done.
                try await connection.query("""
                    UPDATE campaigns SET status = 'completed', finished_at = \(nowMs), updated_at = \(nowMs)
                    WHERE id = \(campaignId) AND status = 'running'
                        AND NOT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = \(campaignId) AND status IN ('pending', 'sending'))
                    """, logger: logger)
                return []
            }
            var recipients: [CampaignRecipient] = []
            for (id, claim) in try await claimed(ids, on: connection, now: now) {
                switch claim {
                case .send(let recipient): recipients.append(recipient)
                case .skip(let reason):
                    try await connection.query(
                        "UPDATE campaign_recipients SET status = 'skipped', reason = \(reason), updated_at = \(nowMs) WHERE id = \(id)", logger: logger)
                }
            }
            return recipients
        }
    }

    /// Recipients as a claim hands them to the sender, or why each is skipped now, in batch and id order.
    private func claimed(_ ids: [Int64], on connection: PostgresConnection, now: Date) async throws -> [(id: Int64, claim: CampaignRecipient.Claim)] {
        var fields: [Int64: [String: String]] = [:]
        let fieldRows = try await connection.query("""
            SELECT v.contact_id, f.key, v.value FROM contact_fields v JOIN custom_fields f ON f.id = v.field_id
            WHERE v.contact_id IN (SELECT contact_id FROM campaign_recipients WHERE id = ANY(\(ids)))
            """, logger: logger)
        for try await (contactId, key, value) in fieldRows.decode((Int64, String, String).self) { fields[contactId, default: [:]][key] = value }
        let rows = try await connection.query("""
            SELECT r.id, r.contact_id, r.account, r.channel, r.batch_key, r.attempts, c.display_name, c.email,
                EXISTS (SELECT 1 FROM email_opt_outs o WHERE o.address = \(unescaped: Inbox.postgresLoweredEmail)),
                i.id, i.platform_user_id, i.last_inbound_at, i.blocked
            FROM campaign_recipients r LEFT JOIN contacts c ON c.id = r.contact_id LEFT JOIN identities i ON i.id = r.identity_id
            WHERE r.id = ANY(\(ids)) ORDER BY r.batch_key, r.id
            """, logger: logger)
        var recipients: [(id: Int64, claim: CampaignRecipient.Claim)] = []
        for try await row in rows.decode((Int64, Int64, String, String, String?, Int, String?, String?, Bool, Int64?, String?, Int64?, Int?).self) {
            let (id, contactId, account, channel, batchKey, attempts, name, email, optedOut, identityId, platformUserId, lastInboundAt, blocked) = row
            let identity = identityId.flatMap { _ in
                platformUserId.map { CampaignRecipient.IdentityFacts(platformUserId: $0, lastInboundAt: lastInboundAt, blocked: (blocked ?? 0) != 0) }
            }
            recipients.append((id, CampaignRecipient.claimed(
                id: id, contactId: contactId, account: account, channel: channel, batchKey: batchKey, attempts: attempts, contactName: name,
                contactEmail: email, emailOptedOut: optedOut, identity: identity, fields: fields[contactId] ?? [:], now: now)))
        }
        return recipients
    }

    public func preview(audience: CampaignAudience, channel: String?, now: Date) async throws -> [PreviewedRecipient] {
        do {
            // The campaign and its recipients are rolled back by throwing what was found.
            try await client.transaction(logger: logger) { connection in
                let rows = try await connection.query("""
                    INSERT INTO campaigns (name, status, audience, channel, content, created_by, created_at, updated_at)
                    VALUES ('preview', 'draft', \(try audience.stored()), \(channel), '{}', 'preview', \(now.ms), \(now.ms))
                    RETURNING id
                    """, logger: logger)
                var campaignId: Int64?
                for try await id in rows.decode(Int64.self) { campaignId = id }
                guard let campaignId else { throw PostgresCampaignStoreError.noRowReturned }
                try await resolveAudience(on: connection, campaignId: campaignId, audience: audience, channel: channel, now: now.ms)
                var resolved: [(id: Int64, channel: String?, status: String, reason: String?)] = []
                let states = try await connection.query(
                    "SELECT id, channel, status, reason FROM campaign_recipients WHERE campaign_id = \(campaignId) ORDER BY id", logger: logger)
                for try await row in states.decode((Int64, String?, String, String?).self) { resolved.append(row) }
                var claimed: [Int64: CampaignRecipient.Claim] = [:]
                for (id, claim) in try await self.claimed(resolved.filter { $0.status == "pending" }.map(\.id), on: connection, now: now) {
                    claimed[id] = claim
                }
                throw PreviewRollback(recipients: resolved.map { row in
                    switch claimed[row.id] {
                    case .send(let recipient): .recipient(recipient)
                    case .skip(let reason): .skipped(channel: row.channel, reason: reason)
                    case nil: .skipped(channel: row.channel, reason: row.reason ?? PreviewedRecipient.noAddress)
                    }
                })
            }
            throw PostgresCampaignStoreError.noRowReturned
        } catch let rollback as PreviewRollback {
            return rollback.recipients
        }
    }

    /// Carries a preview's findings out of the transaction it rolls back.
    private struct PreviewRollback: Error {
        let recipients: [PreviewedRecipient]
    }

    public func assignBatch(_ recipientIds: [Int64], key: String, holder: String) async throws -> Set<Int64> {
        let rows = try await client.query("""
            UPDATE campaign_recipients SET batch_key = \(key)
            WHERE id = ANY(\(recipientIds)) AND status = 'sending' AND holder = \(holder)
            RETURNING id
            """, logger: logger)
        var assigned: Set<Int64> = []
        for try await id in rows.decode(Int64.self) { assigned.insert(id) }
        return assigned
    }

    public func recordOutcomes(_ outcomes: [(recipientId: Int64, outcome: RecipientOutcome)], holder: String, now: Date) async throws {
        let now = now.ms
        let statements: [PostgresQuery] = outcomes.map { id, outcome in
            switch outcome {
            case .released:
                return """
                    UPDATE campaign_recipients SET
                        status = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
                        reason = CASE WHEN (SELECT status FROM campaigns c WHERE c.id = campaign_id) = 'cancelled' THEN 'campaign cancelled' ELSE reason END,
                        updated_at = \(now)
                    WHERE id = \(id) AND status = 'sending' AND holder = \(holder)
                    """
            case .sent(let platformId):
                return """
                    UPDATE campaign_recipients SET status = 'sent', platform_message_id = \(platformId), attempts = attempts + 1, updated_at = \(now)
                    WHERE id = \(id) AND status = 'sending' AND holder = \(holder)
                    """
            case .failed(let reason):
                return """
                    UPDATE campaign_recipients SET status = 'failed', reason = \(reason), attempts = attempts + 1, updated_at = \(now)
                    WHERE id = \(id) AND status = 'sending' AND holder = \(holder)
                    """
            case .skipped(let reason):
                return """
                    UPDATE campaign_recipients SET status = 'skipped', reason = \(reason), updated_at = \(now)
                    WHERE id = \(id) AND status = 'sending' AND holder = \(holder)
                    """
            case .retry(let at, let reason):
                return """
                    UPDATE campaign_recipients SET status = 'pending', reason = \(reason), attempts = attempts + 1, next_attempt_at = \(at.ms),
                        updated_at = \(now)
                    WHERE id = \(id) AND status = 'sending' AND holder = \(holder)
                    """
            }
        }
        guard !statements.isEmpty else { return }
        try await client.transaction(logger: logger) { connection in
            for statement in statements { try await connection.query(statement, logger: logger) }
        }
    }

    public func recoverInterruptedSends(
        idempotentAccounts: Set<String>, holder: String, includingOwn: Bool, deadSince: Date, now: Date
    ) async throws -> (resumed: Int, failed: Int) {
        let now = now.ms
        let accounts = idempotentAccounts.sorted()
        // One statement, so one snapshot decides which rows are orphaned and what becomes of each
        // (two statements could see a holder alive in the first and dead in the second).
        let rows = try await client.query("""
            WITH orphaned AS MATERIALIZED (
                SELECT r.id, (r.batch_key IS NOT NULL OR r.account = ANY(\(accounts))) AS resumable,
                    c.status = 'cancelled' AS cancelled
                FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
                WHERE r.status = 'sending' AND (
                    (\(includingOwn) AND r.holder = \(holder)) OR (r.holder IS DISTINCT FROM \(holder) AND NOT EXISTS (
                        SELECT 1 FROM run_once_leases l WHERE l.holder = r.holder AND l.expires_at > \(deadSince.ms))))
                FOR UPDATE OF r SKIP LOCKED)
            UPDATE campaign_recipients t SET
                status = CASE WHEN NOT o.resumable THEN 'failed' WHEN o.cancelled THEN 'cancelled' ELSE 'pending' END,
                reason = CASE WHEN NOT o.resumable THEN \(RecipientOutcome.interruptedReason) WHEN o.cancelled THEN 'campaign cancelled' ELSE t.reason END,
                updated_at = \(now)
            FROM orphaned o WHERE t.id = o.id
            RETURNING t.status
            """, logger: logger)
        var resumed = 0, failed = 0
        for try await status in rows.decode(String.self) {
            if status == "failed" { failed += 1 } else { resumed += 1 }
        }
        return (resumed, failed)
    }

    public func report(id: Int64) async throws -> CampaignReport? {
        try await client.transaction(logger: logger) { connection in
            var status: String?
            for try await value in try await connection.query("SELECT status FROM campaigns WHERE id = \(id)", logger: logger).decode(String.self) {
                status = value
            }
            guard let status else { return nil }
            var counts: [(channel: String?, status: String, count: Int)] = []
            let countRows = try await connection.query(
                "SELECT channel, status, count(*) FROM campaign_recipients WHERE campaign_id = \(id) GROUP BY channel, status", logger: logger)
            for try await (channel, state, n) in countRows.decode((String?, String, Int).self) { counts.append((channel, state, n)) }
            var reasons: [(status: String, reason: String?, count: Int)] = []
            let reasonRows = try await connection.query("""
                SELECT status, reason, count(*) AS n FROM campaign_recipients
                WHERE campaign_id = \(id) AND status IN ('failed', 'skipped', 'cancelled') GROUP BY status, reason ORDER BY n DESC LIMIT 50
                """, logger: logger)
            for try await (state, reason, n) in reasonRows.decode((String, String?, Int).self) { reasons.append((state, reason, n)) }
            return CampaignReport(campaignId: id, status: status, counts: counts, reasons: reasons)
        }
    }

    public func recipients(campaignId: Int64, status: String?, afterId: Int64, limit: Int) async throws -> [RecipientState] {
        let rows = try await client.query("""
            SELECT id, contact_id, channel, status, reason, platform_message_id, updated_at FROM campaign_recipients
            WHERE campaign_id = \(campaignId) AND (\(status)::text IS NULL OR status = \(status)) AND id > \(afterId) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var states: [RecipientState] = []
        for try await (id, contactId, channel, state, reason, platformId, updatedAt) in rows.decode(
            (Int64, Int64, String?, String, String?, String?, Int64).self)
        {
            states.append(
                RecipientState(
                    id: id, contactId: contactId, channel: channel, status: state, reason: reason, platformMessageId: platformId,
                    updatedAtMs: updatedAt))
        }
        return states
    }

    // MARK: - Helpers

    /// Locks up to `limit` pending recipients of the campaign (of interrupted batches, or due at
    /// `now`), passing by those another claim holds, and marks them `sending`. Their ids.
    /// Marks `sending` for `holder` the pending recipients of one interrupted batch, whole, or up
    /// to `limit` due ones. (`SKIP LOCKED` passes over rows another process is settling.)
    private func claim(
        on connection: PostgresConnection, campaignId: Int64, ofBatches: Bool, limit: Int, holder: String, now: Int64
    ) async throws -> [Int64] {
        let query: PostgresQuery =
            ofBatches
            ? """
            WITH batch AS (
                SELECT batch_key FROM campaign_recipients
                WHERE campaign_id = \(campaignId) AND status = 'pending' AND batch_key IS NOT NULL ORDER BY batch_key LIMIT 1),
            picked AS MATERIALIZED (
                SELECT r.id FROM campaign_recipients r JOIN batch b ON r.batch_key = b.batch_key
                WHERE r.campaign_id = \(campaignId) AND r.status = 'pending' FOR UPDATE OF r)
            UPDATE campaign_recipients t SET status = 'sending', holder = \(holder), updated_at = \(now) FROM picked WHERE t.id = picked.id
            RETURNING t.id
            """
            : """
            WITH picked AS MATERIALIZED (
                SELECT r.id FROM campaign_recipients r WHERE r.campaign_id = \(campaignId) AND r.status = 'pending' AND r.next_attempt_at <= \(now)
                ORDER BY r.id LIMIT \(limit) FOR UPDATE OF r SKIP LOCKED)
            UPDATE campaign_recipients t SET status = 'sending', holder = \(holder), updated_at = \(now) FROM picked WHERE t.id = picked.id
            RETURNING t.id
            """
        var ids: [Int64] = []
        for try await id in try await connection.query(query, logger: logger).decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// Which campaign rows to read.
    private enum Selection {
        case id(Int64), newest(limit: Int), running
    }

    /// Campaign rows, with their progress when asked.
    private func campaigns(_ selection: Selection, withProgress: Bool) async throws -> [Campaign] {
        let columns = "SELECT id, name, status, audience, channel, content, scheduled_at, started_at, finished_at, created_by, created_at FROM campaigns"
        let query: PostgresQuery =
            switch selection {
            case .id(let id): "\(unescaped: columns) WHERE id = \(id)"
            case .newest(let limit): "\(unescaped: columns) ORDER BY id DESC LIMIT \(limit)"
            case .running: "\(unescaped: columns) WHERE status = 'running' ORDER BY id"
            }
        typealias Columns = (Int64, String, String, String, String?, String, Int64?, Int64?, Int64?, String, Int64)
        var found: [Columns] = []
        for try await row in try await client.query(query, logger: logger).decode(Columns.self) { found.append(row) }
        var progress: [Int64: [String: Int]] = [:]
        if withProgress, !found.isEmpty {
            let rows = try await client.query("""
                SELECT campaign_id, status, count(*) FROM campaign_recipients WHERE campaign_id = ANY(\(found.map(\.0))) GROUP BY campaign_id, status
                """, logger: logger)
            for try await (id, status, n) in rows.decode((Int64, String, Int).self) { progress[id, default: [:]][status] = n }
        }
        return try found.map { row in
            try Campaign(
                id: row.0, name: row.1, status: row.2, audience: row.3, channel: row.4, content: row.5, scheduledAt: row.6, startedAt: row.7,
                finishedAt: row.8, createdBy: row.9, createdAt: row.10, progress: progress[row.0] ?? [:])
        }
    }

    /// Puts every contact the audience matches into the campaign: the SQLite statement
    /// (`SQLiteCampaignStore.resolveAudience`) with arrays bound instead of JSON lists.
    private func resolveAudience(on connection: PostgresConnection, campaignId: Int64, audience: CampaignAudience, channel: String?, now: Int64) async throws {
        let email = Inbox.emailChannel
        if let account = audience.followersOf {
            try await connection.query("""
                INSERT INTO campaign_recipients (campaign_id, contact_id, account, channel, status, updated_at)
                VALUES (\(campaignId), \(CampaignRecipient.allFollowers), \(account), 'line', 'pending', \(now))
                ON CONFLICT (campaign_id, contact_id) DO NOTHING
                """, logger: logger)
            try await connection.query("UPDATE campaigns SET audience_size = 1 WHERE id = \(campaignId)", logger: logger)
            return
        }
        var statement = Statement()
        let reason = statement.bind(channel == email ? "no e-mail address" : "no identity on \(channel ?? "any channel") and no e-mail address")
        let pick = channel.map { "AND i2.channel = \(statement.bind($0))" } ?? ""
        var conditions: [String] = []
        if let ids = audience.contactIds { conditions.append("c.id = ANY(\(statement.bind(ids)))") }
        if let tags = audience.tags, !tags.isEmpty {
            let wanted = statement.bind(try audience.storedTags())
            conditions.append("""
                (EXISTS (SELECT 1 FROM contact_tags k WHERE k.contact_id = c.id AND k.tag = ANY(\(wanted)))
                 OR EXISTS (SELECT 1 FROM tickets t JOIN ticket_tags g ON g.ticket_id = t.id WHERE t.contact_id = c.id AND g.tag = ANY(\(wanted))))
                """)
        }
        if audience.channel == email {
            conditions.append("coalesce(c.email, '') <> ''")
        } else if let segmentChannel = audience.channel {
            conditions.append("EXISTS (SELECT 1 FROM identities s WHERE s.contact_id = c.id AND s.channel = \(statement.bind(segmentChannel)))")
        }
        for (key, value) in (audience.contactFields ?? [:]).sorted(by: { $0.key < $1.key }) {
            conditions.append("""
                EXISTS (SELECT 1 FROM contact_fields f JOIN custom_fields d ON d.id = f.field_id
                        WHERE f.contact_id = c.id AND d.scope = 'contact' AND d.key = \(statement.bind(key)) AND f.value = \(statement.bind(value)))
                """)
        }
        if let after = audience.lastContactAfter {
            conditions.append("(SELECT max(last_inbound_at) FROM identities s WHERE s.contact_id = c.id) >= \(statement.bind(after.ms))")
        }
        if let before = audience.lastContactBefore {
            conditions.append("(SELECT max(last_inbound_at) FROM identities s WHERE s.contact_id = c.id) < \(statement.bind(before.ms))")
        }
        if audience.optedIn == true { conditions.append("(i.id IS NULL OR i.blocked = 0)") }
        let campaign = statement.bind(campaignId)
        let at = statement.bind(now)
        statement.sql = """
            INSERT INTO campaign_recipients (campaign_id, contact_id, identity_id, account, channel, status, reason, updated_at)
            SELECT \(campaign), c.id, i.id, coalesce(i.account, e.channel), coalesce(i.channel, e.channel),
                CASE WHEN i.id IS NULL AND e.channel IS NULL THEN 'skipped' WHEN \(Inbox.optedOutCondition(lowered: Inbox.postgresLoweredEmail)) THEN 'skipped' ELSE 'pending' END,
                CASE WHEN i.id IS NULL AND e.channel IS NULL THEN \(reason) WHEN \(Inbox.optedOutCondition(lowered: Inbox.postgresLoweredEmail)) THEN '\(Inbox.unsubscribedReason)' END,
                \(at)
            FROM contacts c
            LEFT JOIN identities i ON i.id = (
                SELECT i2.id FROM identities i2 WHERE i2.contact_id = c.id \(pick) ORDER BY coalesce(i2.last_inbound_at, 0) DESC, i2.id DESC LIMIT 1)
            LEFT JOIN (SELECT '\(email)'::text AS channel) e ON coalesce(c.email, '') <> '' AND \(channel == nil || channel == email ? "TRUE" : "FALSE")
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY c.id
            ON CONFLICT (campaign_id, contact_id) DO NOTHING
            """
        try await connection.query(PostgresQuery(unsafeSQL: statement.sql, binds: statement.binds), logger: logger)
        try await connection.query("""
            UPDATE campaigns SET audience_size = (SELECT count(*) FROM campaign_recipients WHERE campaign_id = \(campaignId)) WHERE id = \(campaignId)
            """, logger: logger)
    }

    /// A statement whose placeholders are numbered as values are bound.
    private struct Statement {
        var sql = ""
        var binds = PostgresBindings()

        /// Binds `value` and returns its placeholder.
        mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
    }

}

enum PostgresCampaignStoreError: Error {
    case noRowReturned
}

// MARK: - Outreach tickets on PostgreSQL

extension PostgresCampaignStore {
    /// The contact's row is locked (after `event_seq`: a new ticket is logged), as ingest locks it
    /// before routing a message, so two processes asking at once open one ticket between them.
    public func ticketForOutreach(contactId: Int64, channel: String?, by actor: String, now: Date, check: @escaping TicketCheck) async throws
        -> (ticketId: Int64, opened: Bool)
    {
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let contacts = try await connection.query("SELECT id FROM contacts WHERE id = \(contactId) FOR UPDATE", logger: logger).decode(Int64.self).all()
            guard !contacts.isEmpty else { throw InboxError.notFound("contact \(contactId)") }
            let current = try await connection.query("""
                SELECT id FROM tickets WHERE contact_id = \(contactId) AND status NOT IN ('closed', 'spam') ORDER BY id DESC LIMIT 1
                """, logger: logger).decode(Int64.self).all()
            if let current = current.first { return (current, false) }
            let identities = try await connection.query("""
                SELECT id FROM identities WHERE contact_id = \(contactId) AND (\(channel)::text IS NULL OR channel = \(channel))
                ORDER BY coalesce(last_inbound_at, 0) DESC, id DESC LIMIT 1
                """, logger: logger).decode(Int64.self).all()
            guard let identity = identities.first else { throw InboxError.noOutreachChannel(contactId: contactId, channel: channel) }
            let opened = try await connection.query("""
                INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at)
                VALUES (\(contactId), 'pending', \(identity), \(now.ms), \(now.ms)) RETURNING id
                """, logger: logger).decode(Int64.self).all()
            guard let id = opened.first else { preconditionFailure("INSERT ... RETURNING gave no row") }
            // A ticket the sender could not answer is not opened at all (the transaction rolls back).
            try check(id, [TicketPlace(agentId: nil, departmentId: nil)])
            try await PostgresTicketHistory.record(id, "opened_for_outreach", by: actor, [:], at: now.ms, on: connection, logger: logger)
            return (id, true)
        }
    }
}
