import Foundation
import PostgresStore
import Testing
import UniversalInbox

/// `seconds` after the contract tests' moment zero.
private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

/// `CampaignStore` as every implementation must keep it: campaigns read back as created; starting
/// one resolves its audience (channel, tags on contacts and on their tickets, listed contacts)
/// into recipients on one identity each; recipients are claimed in batches and marked sending,
/// interrupted batches first; outcomes are recorded; sends interrupted by a stop are resumed or
/// failed; progress counts recipients by state; and two processes claiming one campaign's
/// recipients at once claim each exactly once.
@Suite struct CampaignContractTests {
    /// Kim (LINE, and WhatsApp more recently; e-mail; tier gold), Lee (LINE; contact tag vip),
    /// Max (WhatsApp, blocked; a ticket tagged vip), Noa (nowhere).
    static let fixture = [
        """
        INSERT INTO contacts (id, display_name, email, created_at, updated_at)
        VALUES (1, 'Kim', 'kim@example.com', 1, 1), (2, 'Lee', NULL, 1, 1), (3, 'Max', NULL, 1, 1), (4, 'Noa', NULL, 1, 1)
        """,
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, last_inbound_at, blocked, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 100, 0, 1), (2, 1, 'whatsapp/main', 'whatsapp', '15550001', 200, 0, 1),
            (3, 2, 'line/main', 'line', 'U2', 100, 0, 1), (4, 3, 'whatsapp/main', 'whatsapp', '15550003', 100, 1, 1)
        """,
        "INSERT INTO contact_tags (contact_id, tag) VALUES (2, 'vip')",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 3, 'open', 4, 1, 1)",
        "INSERT INTO ticket_tags (ticket_id, tag) VALUES (1, 'vip')",
        "INSERT INTO custom_fields (id, scope, key, label, type, created_at) VALUES (1, 'contact', 'tier', 'Tier', 'text', 1)",
        "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (1, 1, 'gold')",
    ]

    static func audience(contactIds: [Int64]? = nil, tags: [String]? = nil, channel: String? = nil) -> CampaignAudience {
        var audience = CampaignAudience()
        audience.contactIds = contactIds
        audience.tags = tags
        audience.channel = channel
        return audience
    }

    /// A running campaign to `audience`, sent on `channel` (nil: each contact's most recent).
    static func started(_ store: any CampaignStore, _ audience: CampaignAudience, channel: String? = nil) async throws -> Int64 {
        let id = try await store.create(
            name: "Sale", status: .draft, audience: audience, channel: channel, content: CampaignContent(text: "Hi {{contact.name|there}}"),
            scheduledAt: nil, createdBy: "ann@example.com", now: at(0))
        #expect(try await store.change(id, to: .start, from: [.draft, .scheduled], now: at(1)) == .changed)
        return id
    }

    /// Each recipient as (contact, channel, status, reason), in id order.
    static func recipients(_ store: any CampaignStore, _ id: Int64) async throws -> [Recipient] {
        try await store.recipients(campaignId: id, status: nil, afterId: 0, limit: 100).map {
            Recipient(contact: $0.contactId, channel: $0.channel, status: $0.status, reason: $0.reason)
        }
    }

    struct Recipient: Equatable, CustomStringConvertible {
        var contact: Int64, channel: String?, status: String, reason: String?
        init(contact: Int64, channel: String?, status: String, reason: String? = nil) {
            (self.contact, self.channel, self.status, self.reason) = (contact, channel, status, reason)
        }
        var description: String { "\(contact) \(channel ?? "-") \(status) \(reason ?? "")" }
    }

    @Test(arguments: StoreKind.available)
    func aCampaignReadsBackAsCreated(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = stores.campaignStore
            let content = CampaignContent(text: "Hello", subject: "News")
            let draft = try await store.create(
                name: "Spring", status: .draft, audience: Self.audience(tags: ["vip"]), channel: "line", content: content, scheduledAt: nil,
                createdBy: "ann@example.com", now: at(0))
            let scheduled = try await store.create(
                name: "Summer", status: .scheduled, audience: Self.audience(contactIds: [1]), channel: nil, content: content, scheduledAt: at(60),
                createdBy: "bo@example.com", now: at(1))
            let read = try #require(try await store.campaign(id: draft))
            #expect(read.name == "Spring" && read.status == .draft && read.audience == Self.audience(tags: ["vip"]) && read.channel == "line")
            #expect(read.content == content && read.createdBy == "ann@example.com" && read.createdAt == at(0) && read.scheduledAt == nil)
            #expect(read.progress.isEmpty && read.total == 0)
            #expect(try await store.campaign(id: scheduled)?.scheduledAt == at(60))
            #expect(try await store.campaign(id: 999) == nil)
            #expect(try await store.campaigns(limit: 10).map(\.id) == [scheduled, draft])
            #expect(try await store.campaigns(limit: 1).map(\.id) == [scheduled])
            // Due only once its time has come; nothing runs yet.
            #expect(try await store.dueScheduled(now: at(59)).isEmpty)
            #expect(try await store.dueScheduled(now: at(60)) == [scheduled])
            #expect(try await store.running().isEmpty)
        }
    }

    /// A segment by channel: everyone with an identity there, each sent on their most recently
    /// used identity (Kim's WhatsApp) when the campaign names no channel.
    @Test(arguments: StoreKind.available)
    func theAudienceByChannel(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let id = try await Self.started(store, Self.audience(channel: "line"))
            #expect(try await Self.recipients(store, id) == [.init(contact: 1, channel: "whatsapp", status: "pending"), .init(contact: 2, channel: "line", status: "pending")])
            // Listed contacts, sent on LINE: Kim on LINE, Max (not on LINE, no e-mail) and Noa skipped with the reason.
            let listed = try await Self.started(store, Self.audience(contactIds: [1, 3, 4]), channel: "line")
            let reason = "no identity on line and no e-mail address"
            #expect(
                try await Self.recipients(store, listed) == [
                    .init(contact: 1, channel: "line", status: "pending"), .init(contact: 3, channel: nil, status: "skipped", reason: reason),
                    .init(contact: 4, channel: nil, status: "skipped", reason: reason),
                ])
            #expect(try await store.running().map(\.id) == [id, listed])
        }
    }

    /// A segment by tag: contacts tagged (Lee) or with a ticket tagged (Max), tags compared as
    /// stored (trimmed, lower case).
    @Test(arguments: StoreKind.available)
    func theAudienceByTagOnContactsAndTheirTickets(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let id = try await Self.started(store, Self.audience(tags: [" VIP"]))
            #expect(try await Self.recipients(store, id) == [.init(contact: 2, channel: "line", status: "pending"), .init(contact: 3, channel: "whatsapp", status: "pending")])
            let none = try await Self.started(store, Self.audience(tags: ["gold"]))
            #expect(try await Self.recipients(store, none).isEmpty)
        }
    }

    /// Claims take at most `limit` due recipients in id order and mark them sending; the sender
    /// gets each one's address, context and `{{...}}` values. A campaign completes once nothing is
    /// pending or sending, and its progress counts recipients by state.
    @Test(arguments: StoreKind.available)
    func recipientsAreClaimedInBatchesRecordedAndCounted(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let draft = try await store.create(
                name: "Later", status: .draft, audience: Self.audience(contactIds: [1]), channel: nil, content: CampaignContent(text: "x"),
                scheduledAt: nil, createdBy: "ann@example.com", now: at(0))
            #expect(try await store.claimRecipients(campaignId: draft, limit: 10, holder: "a", now: at(2)).isEmpty)
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            let first = try await store.claimRecipients(campaignId: id, limit: 2, holder: "a", now: at(2))
            #expect(first.map(\.contactId) == [1, 2])
            let kim = try #require(first.first)
            #expect(kim.account == "whatsapp/main" && kim.channel == "whatsapp" && kim.platformUserId == "15550001" && kim.attempts == 0)
            #expect(kim.values == ["contact.name": "Kim", "contact.email": "kim@example.com", "contact.field.tier": "gold"])
            #expect(kim.context.lastInboundAt == Date(ms: 200) && kim.context.recipientBlocked == false && kim.context.now == at(2))
            let second = try await store.claimRecipients(campaignId: id, limit: 2, holder: "a", now: at(2))
            #expect(second.map(\.contactId) == [3])
            #expect(second.first?.context.recipientBlocked == true)
            #expect(try await store.campaign(id: id)?.progress == ["sending": 3])
            // All in flight: nothing to claim, but not done either.
            #expect(try await store.claimRecipients(campaignId: id, limit: 2, holder: "a", now: at(3)).isEmpty)
            #expect(try await store.isRunning(id))
            try await store.recordOutcomes(
                [(first[0].id, .sent(platformMessageId: "m1")), (first[1].id, .retry(at: at(10), reason: "rate limited")), (second[0].id, .skipped(reason: "blocked"))],
                holder: "a", now: at(4))
            // The retry waits for its time, then goes again with its attempt counted.
            #expect(try await store.claimRecipients(campaignId: id, limit: 2, holder: "a", now: at(9)).isEmpty)
            let again = try await store.claimRecipients(campaignId: id, limit: 2, holder: "a", now: at(10))
            #expect(again.map(\.contactId) == [2] && again.first?.attempts == 1)
            try await store.recordOutcomes([(again[0].id, .failed(reason: "unreachable"))], holder: "a", now: at(11))
            #expect(try await store.isRunning(id))
            #expect(try await store.claimRecipients(campaignId: id, limit: 2, holder: "a", now: at(12)).isEmpty)
            let done = try #require(try await store.campaign(id: id))
            #expect(done.status == .completed && done.finishedAt == at(12))
            #expect(done.progress == ["sent": 1, "failed": 1, "skipped": 1] && done.total == 3)
            #expect(!(try await store.isRunning(id)))
            let report = try #require(try await store.report(id: id))
            #expect(report.status == .completed)
            #expect(report.channels.map { [$0.channel: [$0.sent, $0.failed, $0.skipped, $0.pending]] } == [["line": [0, 1, 0, 0]], ["whatsapp": [1, 0, 1, 0]]])
            #expect(Set(report.reasons.map { "\($0.status) \($0.reason) \($0.count)" }) == ["failed unreachable 1", "skipped blocked 1"])
            #expect(try await store.recipients(campaignId: id, status: "sent", afterId: 0, limit: 10).map(\.platformMessageId) == ["m1"])
            #expect(try await store.report(id: 999) == nil)
        }
    }

    /// After a stop mid-send: recipients of a batch, or on an account whose sends carry an
    /// idempotency key, go back to pending (and the batch is claimed first, whole, under its key);
    /// the others are failed as interrupted, never resent.
    @Test(arguments: StoreKind.available)
    func interruptedSendsAreResumedOrFailed(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            // Kim and Max on WhatsApp, Lee on LINE.
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            let claimed = try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: at(2))
            #expect(claimed.count == 3)
            #expect(try await store.assignBatch([claimed[2].id], key: "batch-1", holder: "a") == [claimed[2].id])
            let recovered = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "b", includingOwn: false, deadSince: at(5), now: at(5))
            #expect(recovered.resumed == 2 && recovered.failed == 1)
            #expect(
                try await Self.recipients(store, id) == [
                    .init(contact: 1, channel: "whatsapp", status: "failed", reason: RecipientOutcome.interruptedReason),
                    .init(contact: 2, channel: "line", status: "pending"), .init(contact: 3, channel: "whatsapp", status: "pending"),
                ])
            let batch = try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: at(6))
            #expect(batch.map(\.contactId) == [3] && batch.first?.batchKey == "batch-1")
            #expect(try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: at(6)).map(\.contactId) == [2])
            let again = try await store.recoverInterruptedSends(idempotentAccounts: [], holder: "b", includingOwn: false, deadSince: at(7), now: at(7))
            #expect(again.resumed == 1 && again.failed == 1)
        }
    }

    /// Transitions happen only from the statuses given; pausing stops claims, cancelling cancels
    /// what is pending, and a recipient released after a cancel stays cancelled.
    @Test(arguments: StoreKind.available)
    func pauseResumeAndCancel(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            #expect(try await store.change(999, to: .start, from: [.draft], now: at(1)) == .notFound)
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            #expect(try await store.change(id, to: .start, from: [.draft, .scheduled], now: at(2)) == .refused(from: .running))
            #expect(try await store.campaign(id: id)?.startedAt == at(1))
            #expect(try await store.change(id, to: .pause, from: [.running], now: at(2)) == .changed)
            #expect(try await store.claimRecipients(campaignId: id, limit: 1, holder: "a", now: at(3)).isEmpty)
            #expect(try await store.change(id, to: .resume, from: [.paused], now: at(4)) == .changed)
            let resumed = try #require(try await store.campaign(id: id))
            #expect(resumed.status == .running && resumed.startedAt == at(1) && resumed.total == 3)
            let inFlight = try await store.claimRecipients(campaignId: id, limit: 1, holder: "a", now: at(5))
            #expect(try await store.change(id, to: .cancel, from: [.running], now: at(6)) == .changed)
            try await store.recordOutcomes([(inFlight[0].id, .released)], holder: "a", now: at(7))
            let cancelled = try #require(try await store.campaign(id: id))
            #expect(cancelled.status == .cancelled && cancelled.finishedAt == at(6) && cancelled.progress == ["cancelled": 3])
            // A scheduled campaign paused before its time resolves its audience when resumed.
            let scheduled = try await store.create(
                name: "Later", status: .scheduled, audience: Self.audience(contactIds: [2]), channel: nil, content: CampaignContent(text: "x"),
                scheduledAt: at(60), createdBy: "ann@example.com", now: at(0))
            #expect(try await store.change(scheduled, to: .pause, from: [.running, .scheduled], now: at(1)) == .changed)
            #expect(try await store.change(scheduled, to: .resume, from: [.paused], now: at(2)) == .changed)
            #expect(try await Self.recipients(store, scheduled) == [.init(contact: 2, channel: "line", status: "pending")])
            #expect(try await store.campaign(id: scheduled)?.startedAt == at(2))
        }
    }

    /// Marks each recipient as claimed by `holder`, as `claimRecipients` for that holder would.
    static func claim(_ store: any CampaignStore, _ id: Int64, _ holder: String, limit: Int, at seconds: TimeInterval) async throws -> [Int64] {
        try await store.claimRecipients(campaignId: id, limit: limit, holder: holder, now: at(seconds)).map(\.contactId)
    }

    /// Every process sends, so a process settles only what a dead one left: recipients held by a
    /// holder with a live run-once lease, or by itself, are left alone whatever their age; a dead
    /// holder's are resumed or failed; and a holder whose lease ran out loses them too.
    @Test(arguments: StoreKind.available)
    func onlyADeadHoldersSendsAreSettled(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            #expect(try await Self.claim(store, id, "alive", limit: 1, at: 2) == [1])
            #expect(try await Self.claim(store, id, "dead", limit: 1, at: 2) == [2])
            #expect(try await Self.claim(store, id, "me", limit: 1, at: 2) == [3])
            // "alive" renewed its lease until 30 s; "dead" stopped renewing at 8 s.
            try await stores.sql.execute("""
                INSERT INTO run_once_leases (duty, holder, expires_at)
                VALUES ('campaigns/alive', 'alive', \(at(30).ms)), ('campaigns/dead', 'dead', \(at(8).ms))
                """)
            let first = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "me", includingOwn: false, deadSince: at(10), now: at(10))
            #expect(first.resumed == 1 && first.failed == 0)
            #expect(try await Self.recipients(store, id).map(\.status) == ["sending", "pending", "sending"])
            // "alive" stopped renewing at 30 s: within the grace (dead since 29 s), it still counts as alive.
            let grace = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "me", includingOwn: false, deadSince: at(29), now: at(35))
            #expect(grace.resumed == 0 && grace.failed == 0)
            // Past it: its WhatsApp recipient may have been sent, so it fails.
            let later = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "me", includingOwn: false, deadSince: at(31), now: at(36))
            #expect(later.resumed == 0 && later.failed == 1)
            #expect(
                try await Self.recipients(store, id) == [
                    .init(contact: 1, channel: "whatsapp", status: "failed", reason: RecipientOutcome.interruptedReason),
                    .init(contact: 2, channel: "line", status: "pending"), .init(contact: 3, channel: "whatsapp", status: "sending"),
                ])
            // After a chunk of its own failed half way, "me" settles its own too.
            let own = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "me", includingOwn: true, deadSince: at(36), now: at(37))
            #expect(own.resumed == 0 && own.failed == 1)
            #expect(try await Self.recipients(store, id).map(\.status) == ["failed", "pending", "failed"])
        }
    }

    /// A dead holder's resumable recipients in a campaign cancelled meanwhile are cancelled with
    /// it, not put back to pending (nothing would claim them: the campaign would never settle).
    @Test(arguments: StoreKind.available)
    func aCancelledCampaignsSettledRecipientsAreCancelled(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            #expect(try await Self.claim(store, id, "dead", limit: 10, at: 2) == [1, 2, 3])
            #expect(try await store.change(id, to: .cancel, from: [.running], now: at(3)) == .changed)
            let settled = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "me", includingOwn: false, deadSince: at(4), now: at(4))
            #expect(settled.resumed == 1 && settled.failed == 2)
            #expect(
                try await Self.recipients(store, id) == [
                    .init(contact: 1, channel: "whatsapp", status: "failed", reason: RecipientOutcome.interruptedReason),
                    .init(contact: 2, channel: "line", status: "cancelled", reason: "campaign cancelled"),
                    .init(contact: 3, channel: "whatsapp", status: "failed", reason: RecipientOutcome.interruptedReason),
                ])
        }
    }

    /// A recipient's batch key and outcome are written only by the holder that still holds it: a
    /// holder that was taken for dead (its recipients settled meanwhile) changes nothing.
    @Test(arguments: StoreKind.available)
    func onlyTheHolderWritesARecipient(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            let claimed = try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: at(2))
            #expect(try await store.assignBatch(claimed.map(\.id), key: "k", holder: "b").isEmpty)
            try await store.recordOutcomes(claimed.map { ($0.id, .sent(platformMessageId: "by-b")) }, holder: "b", now: at(3))
            #expect(try await Self.recipients(store, id).map(\.status) == ["sending", "sending", "sending"])
            // "a" is taken for dead: its LINE recipient goes back to pending, the others fail.
            _ = try await store.recoverInterruptedSends(idempotentAccounts: ["line/main"], holder: "b", includingOwn: false, deadSince: at(20), now: at(20))
            #expect(try await store.assignBatch([claimed[1].id], key: "k", holder: "a").isEmpty)
            try await store.recordOutcomes(claimed.map { ($0.id, .sent(platformMessageId: "late")) }, holder: "a", now: at(21))
            #expect(try await Self.recipients(store, id).map(\.status) == ["failed", "pending", "failed"])
            #expect(try await store.recipients(campaignId: id, status: "sent", afterId: 0, limit: 10).isEmpty)
        }
    }

    /// An interrupted batch is claimed whole, whatever the claim's limit, and one batch at a time:
    /// a batch in two claims would go out in part under its key, and LINE would then answer the
    /// second part "already accepted" without delivering it.
    @Test(arguments: StoreKind.available)
    func anInterruptedBatchIsClaimedWhole(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let store = stores.campaignStore
            let id = try await Self.started(store, Self.audience(contactIds: [1, 2, 3]))
            let claimed = try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: at(2))
            #expect(try await store.assignBatch([claimed[0].id, claimed[1].id], key: "batch-1", holder: "a").count == 2)
            #expect(try await store.assignBatch([claimed[2].id], key: "batch-2", holder: "a").count == 1)
            #expect(try await store.recoverInterruptedSends(idempotentAccounts: [], holder: "b", includingOwn: false, deadSince: at(20), now: at(20)).resumed == 3)
            #expect(try await Self.claim(store, id, "b", limit: 1, at: 21) == [1, 2])
            #expect(try await Self.claim(store, id, "b", limit: 1, at: 21) == [3])
        }
    }

    /// Two bridge processes sending one campaign, each claiming small batches as fast as it can
    /// and recording them sent: every recipient is claimed by exactly one of them, once.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesClaimEachRecipientExactlyOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let contacts = 120
            try await processes[0].sql.execute("""
                INSERT INTO contacts (id, display_name, created_at, updated_at) SELECT n, 'C' || n, 1, 1 FROM generate_series(1, \(contacts)) n
                """)
            try await processes[0].sql.execute("""
                INSERT INTO identities (contact_id, account, channel, platform_user_id, created_at)
                SELECT n, 'line/main', 'line', 'U' || n, 1 FROM generate_series(1, \(contacts)) n
                """)
            let id = try await Self.started(processes[0].campaignStore, Self.audience(channel: "line"))
            let claims: [[Int64]] = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for (index, process) in processes.enumerated() {
                    group.addTask {
                        let store = process.campaignStore
                        let holder = "process-\(index)"
                        var claimed: [Int64] = []
                        // Until the campaign completes: a claim may come back empty while the other holds the
                        // last ones. Bounded, so a store that never completes it fails instead of hanging.
                        var rounds = 0
                        while try await store.isRunning(id) {
                            rounds += 1
                            guard rounds <= 10_000 else {
                                Issue.record("the campaign never completed")
                                break
                            }
                            let batch = try await store.claimRecipients(campaignId: id, limit: 3, holder: holder, now: at(2))
                            claimed += batch.map(\.id)
                            try await store.recordOutcomes(batch.map { ($0.id, .sent(platformMessageId: nil)) }, holder: holder, now: at(3))
                        }
                        return claimed
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == contacts, "\(all.count) claims of \(contacts) recipients")
            #expect(Set(all).count == contacts)
            #expect(try await processes[1].campaignStore.campaign(id: id)?.progress == ["sent": contacts])
            let attempts = try await processes[1].sql.rows("SELECT attempts, count(*) FROM campaign_recipients GROUP BY attempts")
            #expect(attempts == [[.int(1), .int(Int64(contacts))]])
        }
    }
}
