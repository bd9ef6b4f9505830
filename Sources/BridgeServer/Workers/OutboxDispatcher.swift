import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Sends queued messages: leases them from the outbox (one per ticket at a time, so each
/// conversation stays in order), waits for the account's token bucket, calls the adapter, and
/// records sent / retry-later (backoff with jitter, honouring Retry-After) / failed.
struct OutboxDispatcher: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let metrics: BridgeMetrics
    let logger: Logger
    var maxInFlight = 64
    /// How long a leased job is held before another worker may take it (a crashed send).
    var lease: TimeInterval = 120
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .messageQueued = $0 { true } else { false } }
        defer { wakeups.cancel() }
        await WorkLoop<OutboundJob>(
            name: "outbox", maxInFlight: maxInFlight, pollInterval: .milliseconds(500), signal: signal, logger: logger,
            claim: { limit in
                let jobs = try await inbox.claimOutbound(limit: limit, lease: lease)
                metrics.outboxDepth.set(to: Double(try await inbox.outboxDepth()))
                return jobs
            },
            perform: { job in await deliver(job) }
        ).run()
    }

    func deliver(_ job: OutboundJob) async {
        let channel = Inbox.channel(ofAccount: job.account)
        var log = logger
        log[metadataKey: "channel.account"] = "\(job.account)"
        log[metadataKey: "message.id"] = "\(job.messageId)"
        log[metadataKey: "ticket.id"] = "\(job.ticketId)"
        let receipt: SendReceipt
        var job = job
        do {
            guard let adapter = registry.adapter(for: job.account), let bucket = registry.bucket(for: job.account) else {
                throw SendError.permanent("unknown_account", "channel account \(job.account) is no longer configured")
            }
            try await bucket.acquire()
            job = try await inbox.holdOutbound(job, lease: lease)
            receipt = try await adapter.send(job.message, transport: transport)
        } catch let lost as LeaseLost {
            // The token wait outlasted the lease and another worker claimed the message: it sends it.
            return log.info("message left to its new holder", metadata: ["error": "\(lost)"])
        } catch {
            return await sendFailed(job, SendError.classify(error), log: log)
        }
        do {
            try await inbox.outboundSent(job, receipt: receipt)
            metrics.send(channel: channel, outcome: "sent")
            log.debug("message sent")
        } catch let lost as LeaseLost {
            // Recorded as sent; the job's new holder (this lease ran out) sends it again under the same idempotency key.
            metrics.send(channel: channel, outcome: "sent")
            log.warning("message sent after its lease ran out", metadata: ["error": "\(lost)"])
        } catch {
            // The job is sent again after its lease, under the same idempotency key.
            metrics.send(channel: channel, outcome: "sent")
            log.error("could not record a sent message", metadata: ["error": "\(error)"])
        }
    }

    /// Records a failed send: another attempt later (backoff with jitter, honouring Retry-After) or failed for good.
    func sendFailed(_ job: OutboundJob, _ failure: SendError, log: Logger) async {
        let channel = Inbox.channel(ofAccount: job.account)
        let attempt = job.attempts + 1
        do {
            switch retry.decide(after: failure, attempt: attempt) {
            case .retry(let delay):
                try await inbox.retryOutbound(job, at: Date().addingTimeInterval(delay.timeInterval), error: failure)
                try? await inbox.stores.channelAccounts.recordSendError(account: job.account, message: "\(failure.code): \(failure.reason)", at: Date())
                metrics.send(channel: channel, outcome: "retry")
                log.warning("send failed, will retry", metadata: ["error.code": "\(failure.code)", "retry.in": "\(delay)", "attempt": "\(attempt)"])
            case .giveUp(let final):
                try await inbox.outboundFailed(job, error: final)
                try? await inbox.stores.channelAccounts.recordSendError(account: job.account, message: "\(final.code): \(final.reason)", at: Date())
                metrics.send(channel: channel, outcome: "failed")
                log.warning("send failed", metadata: ["error.code": "\(final.code)", "error.reason": "\(final.reason)"])
            }
        } catch {
            // The lease runs out and the job is tried again, or it was lost and its new holder reports it.
            log.error("could not record send outcome", metadata: ["error": "\(error)"])
        }
    }
}

extension Inbox {
    /// `line` from `line/main`.
    static func channel(ofAccount key: String) -> String { String(key.prefix { $0 != "/" }) }
}
