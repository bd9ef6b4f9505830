import ChannelKit
import Foundation
import Logging
import Synchronization
import UniversalInbox

/// Sends a running campaign a chunk at a time: claims recipients from the database (marked before
/// anything is sent), applies each platform's rules — recipients a rule excludes are skipped with
/// the reason —, groups same-content recipients into batches where the platform has them (LINE
/// multicast, WeChat mass send; each batch keyed so a resend is a no-op), sends the rest one by
/// one within the account's rate limit with the dispatcher's retry policy, and records every outcome.
///
/// Every process of a cluster sends, each under its `holder` name: what one claims the others do
/// not touch while it lives, and its writes land only on recipients it still holds.
public struct CampaignSender: Sendable {
    public let inbox: Inbox
    public let accounts: any BroadcastAccounts
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    public let logger: Logger
    /// Recipients claimed at a time.
    public var chunkSize: Int
    /// Single sends in flight at once.
    public var concurrency: Int
    /// This process in the recipients it claims (`RunOnceLeaser.holder`: alive while its leases are).
    public let holder: String
    /// Whether the process is stopping: the sends of a chunk that have not gone yet then go back
    /// unsent (as on a pause), rather than wait out the chunk and be failed as interrupted.
    public let stopping: @Sendable () -> Bool

    public init(
        inbox: Inbox, accounts: any BroadcastAccounts, transport: any HTTPTransport, retry: RetryPolicy, logger: Logger, holder: String,
        chunkSize: Int = 500, concurrency: Int = 64, stopping: @escaping @Sendable () -> Bool = { false }
    ) {
        self.inbox = inbox
        self.holder = holder
        self.stopping = stopping
        self.accounts = accounts
        self.transport = transport
        self.retry = retry
        self.logger = logger
        self.chunkSize = chunkSize
        self.concurrency = concurrency
    }

    /// Sends one chunk; returns how many recipients it handled (0: nothing due now, or the campaign
    /// is no longer running).
    @discardableResult
    public func sendChunk(_ campaign: Campaign) async throws -> Int {
        let recipients = try await inbox.claimRecipients(campaignId: campaign.id, limit: chunkSize, holder: holder)
        guard !recipients.isEmpty else { return 0 }
        var outcomes: [(recipientId: Int64, outcome: RecipientOutcome)] = []
        var batches: [(account: String, key: String, recipients: [CampaignRecipient], content: MessageContent)] = []
        var singles: [(CampaignRecipient, OutboundMessage, any MessageSender)] = []
        var fresh: [String: [CampaignRecipient]] = [:]
        let planner = CampaignPlanner(accounts: accounts)

        // An interrupted batch goes again, whole, under its key.
        for (key, group) in Dictionary(grouping: recipients.filter { $0.batchKey != nil }, by: { $0.batchKey! }) {
            let content = CampaignMessage.content(campaign.content, channel: group[0].channel, values: [:])
            batches.append((group[0].account, key, group, content))
        }
        for recipient in recipients where recipient.batchKey == nil {
            if recipient.isAllFollowers {
                let key = CampaignMessage.key("campaign", String(campaign.id), "followers")
                guard try await !inbox.assignBatch([recipient.id], key: key, holder: holder).isEmpty else { continue }
                batches.append((recipient.account, key, [recipient], CampaignMessage.content(campaign.content, channel: recipient.channel, values: [:])))
                continue
            }
            switch planner.plan(recipient, campaignId: campaign.id, name: campaign.name, content: campaign.content) {
            case .batch: fresh[recipient.account, default: []].append(recipient)
            case .skip(let reason): outcomes.append((recipient.id, .skipped(reason: reason)))
            case .single(let message, let adapter): singles.append((recipient, message, adapter))
            }
        }
        for (account, group) in fresh.sorted(by: { $0.key < $1.key }) {
            guard let batching = accounts.adapter(for: account) as? any BatchSending else {
                // Reloaded meanwhile as an account without batches: settled now, not left sending.
                outcomes += group.map { ($0.id, .skipped(reason: "channel account \(account) is not configured or cannot send batches")) }
                continue
            }
            let size = batching.batchRecipients
            for start in stride(from: 0, to: group.count, by: size.upperBound) {
                let part = Array(group[start..<min(start + size.upperBound, group.count)])
                guard part.count >= size.lowerBound else {
                    outcomes += part.map { ($0.id, .skipped(reason: CampaignPlanner.tooFewForBatch(account: account, size: size))) }
                    continue
                }
                let key = CampaignMessage.key("campaign", String(campaign.id), "batch", String(part[0].id))
                // Only the recipients still held go out under the key (one settled meanwhile as a
                // stalled holder's is another process's now).
                let held = try await inbox.assignBatch(part.map(\.id), key: key, holder: holder)
                let sending = part.filter { held.contains($0.id) }
                guard !sending.isEmpty else { continue }
                batches.append((account, key, sending, CampaignMessage.content(campaign.content, channel: part[0].channel, values: [:])))
            }
        }
        try await inbox.recordOutcomes(outcomes, holder: holder)
        for batch in batches {
            // A batch already keyed is sent even when pausing: it is one request, and its key is spent.
            try await inbox.recordOutcomes(await sendBatch(batch.recipients, key: batch.key, account: batch.account, content: batch.content), holder: holder)
        }
        try await sendSingles(singles, campaignId: campaign.id)
        return recipients.count
    }

    /// One batch request (a multicast or mass send, or a broadcast to all followers), retried in
    /// place (its recipients stay together under one key).
    func sendBatch(_ recipients: [CampaignRecipient], key: String, account: String, content: MessageContent) async -> [(recipientId: Int64, outcome: RecipientOutcome)] {
        let transport = self.transport
        let send: @Sendable () async throws -> BatchReceipt
        if recipients.count == 1, recipients[0].isAllFollowers {
            guard let adapter = accounts.adapter(for: account) as? any FollowerBroadcasting else {
                return recipients.map { ($0.id, .skipped(reason: "channel account \(account) is not configured or cannot broadcast to its followers")) }
            }
            send = { try await adapter.broadcastToFollowers(content, key: key, transport: transport) }
        } else if let adapter = accounts.adapter(for: account) as? any BatchSending {
            let to = recipients.map(\.platformUserId)
            send = { try await adapter.sendBatch(content, to: to, key: key, transport: transport) }
        } else {
            return recipients.map { ($0.id, .failed(reason: "channel account \(account) cannot send batches")) }
        }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await accounts.batchBucket(for: account)?.acquire()
                let receipt = try await send()
                if receipt.alreadyAccepted {
                    logger.notice("campaign batch was already accepted (resent after a restart)", metadata: ["channel.account": "\(account)", "batch.key": "\(key)"])
                }
                return recipients.map { ($0.id, .sent(platformMessageId: receipt.platformBatchId)) }
            } catch {
                switch retry.decide(after: SendError.classify(error), attempt: attempt) {
                case .retry(let delay):
                    logger.warning("campaign batch failed, will retry", metadata: ["channel.account": "\(account)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: delay)
                case .giveUp(let final):
                    return recipients.map { ($0.id, .failed(reason: final.description)) }
                }
            }
        }
    }

    /// Single sends, `concurrency` at a time, each within its account's bucket; outcomes are
    /// recorded every hundred so a crash leaves little in flight. A pause or cancel, or the process
    /// stopping, stops the sends that have not gone yet; they go back unsent. A change made in this
    /// process stops them as it is published (a running campaign can only be paused or cancelled),
    /// so no send starts after the pause is answered; one made in another process, or the process
    /// stopping, is looked up every 200 ms.
    func sendSingles(_ singles: [(CampaignRecipient, OutboundMessage, any MessageSender)], campaignId: Int64) async throws {
        guard !singles.isEmpty else { return }
        let retry = self.retry
        let transport = self.transport
        let accounts = self.accounts
        let inbox = self.inbox
        let holder = self.holder
        let stopping = self.stopping
        let stop = StopSwitch()
        let changes = inbox.bus.listen { events in
            if events.contains(where: { if case .campaignChanged(campaignId) = $0 { true } else { false } }) { stop.set() }
        }
        defer { changes.cancel() }
        let monitor = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let running = stopping() ? false : (try? await inbox.isCampaignRunning(campaignId)) != false
                if !running {
                    stop.set()
                    return
                }
            }
        }
        defer { monitor.cancel() }
        try await withThrowingTaskGroup(of: (Int64, RecipientOutcome).self) { group in
            var next = singles.makeIterator()
            var pending: [(recipientId: Int64, outcome: RecipientOutcome)] = []
            func launch() {
                guard let (recipient, message, adapter) = next.next() else { return }
                group.addTask {
                    do {
                        if let bucket = accounts.bucket(for: recipient.account), await !bucket.acquire(unless: { stop.isSet }) {
                            return (recipient.id, .released)
                        }
                        guard !stop.isSet else { return (recipient.id, .released) }
                        let receipt = try await adapter.send(message, transport: transport)
                        return (recipient.id, .sent(platformMessageId: receipt.platformMessageId))
                    } catch {
                        let failure = SendError.classify(error)
                        switch retry.decide(after: failure, attempt: recipient.attempts + 1) {
                        case .retry(let delay): return (recipient.id, .retry(at: Date().addingTimeInterval(delay.timeInterval), reason: failure.description))
                        case .giveUp(let final): return (recipient.id, .failed(reason: final.description))
                        }
                    }
                }
            }
            for _ in 0..<concurrency { launch() }
            while let result = try await group.next() {
                pending.append((result.0, result.1))
                if pending.count >= 100 {
                    try await inbox.recordOutcomes(pending, holder: holder)
                    pending.removeAll(keepingCapacity: true)
                }
                launch()
            }
            try await inbox.recordOutcomes(pending, holder: holder)
        }
    }
}

/// Set once to stop a chunk's remaining sends.
final class StopSwitch: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
