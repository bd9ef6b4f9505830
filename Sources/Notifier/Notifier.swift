import ChannelKit
import Foundation
import Logging
import UniversalInbox

/// One way of reaching an agent. Throws (a `SendError`, or any error: retried) when it could not.
public protocol AlertDelivery: Sendable {
    /// The rate limit deliveries wait for first (the relay's or the SMS account's, shared with
    /// what else they send), taken by the `Notifier`; nil for none.
    var bucket: TokenBucket? { get }
    /// False when there was nobody to reach (an agent with no open inbox, for desktop alerts).
    func deliver(_ alert: PendingAlert) async throws -> Bool
}

extension AlertDelivery {
    public var bucket: TokenBucket? { nil }
}

/// Sends agents' alerts on the media they chose: quiet hours hold back everything but desktop
/// alerts; a failing medium is retried with the dispatcher's policy and never delays the others.
public struct Notifier: Sendable {
    public let inbox: Inbox
    public let deliveries: [AlertMedium: any AlertDelivery]
    public let retry: RetryPolicy
    public let logger: Logger
    /// How long a claimed alert is held (`Inbox.claimAlerts`), and held again after its medium's
    /// rate limit let it go: a wait behind a campaign on the same relay can outlast the claim, and
    /// another process would then take the alert over and send it too.
    public let lease: TimeInterval

    public init(inbox: Inbox, deliveries: [AlertMedium: any AlertDelivery], retry: RetryPolicy, logger: Logger, lease: TimeInterval = 60) {
        self.inbox = inbox
        self.deliveries = deliveries
        self.retry = retry
        self.logger = logger
        self.lease = lease
    }

    public func send(_ alert: PendingAlert, now: Date = Date()) async {
        var alert = alert
        var log = logger
        log[metadataKey: "agent.id"] = "\(alert.agentId)"
        log[metadataKey: "alert.medium"] = "\(alert.medium.rawValue)"
        do {
            if alert.medium != .desktop, alert.settings.isQuiet(at: now) {
                return try await inbox.alertDone(alert, status: "suppressed", error: "quiet hours")
            }
            guard let delivery = deliveries[alert.medium] else {
                return try await inbox.alertDone(alert, status: "failed", error: "\(alert.medium.rawValue) alerts are not configured")
            }
            let reached: Bool
            do {
                if let bucket = delivery.bucket {
                    try await bucket.acquire()
                    do {
                        alert = try await inbox.holdAlert(alert, lease: lease)
                    } catch let lost as LeaseLost {
                        return log.info("alert left to the worker that took it over while it waited", metadata: ["error": "\(lost)"])
                    }
                }
                reached = try await delivery.deliver(alert)
            } catch {
                let failure = SendError.classify(error)
                switch retry.decide(after: failure, attempt: alert.attempts + 1) {
                case .retry(let delay):
                    try await inbox.alertDone(alert, status: "pending", error: failure.description, retryAt: now.addingTimeInterval(delay.timeInterval))
                    log.warning("alert failed, will retry", metadata: ["error.code": "\(failure.code)"])
                case .giveUp(let final):
                    try await inbox.alertDone(alert, status: "failed", error: final.description)
                    log.warning("alert failed", metadata: ["error.code": "\(final.code)", "error.reason": "\(final.reason)"])
                }
                return
            }
            // Delivered: what fails from here is only the record of it, never a reason to deliver it again.
            try await inbox.alertDone(alert, status: reached ? "sent" : "unreached")
        } catch {
            log.error("could not record an alert's outcome", metadata: ["error": "\(error)"])
        }
    }
}

/// Alerts by SMS through one of the bridge's SMS accounts, within its rate limit.
public struct SMSAlertDelivery: AlertDelivery {
    public let adapter: any ChannelAdapter
    public let bucket: TokenBucket?
    public let transport: any HTTPTransport

    public init(adapter: any ChannelAdapter, bucket: TokenBucket?, transport: any HTTPTransport) {
        self.adapter = adapter
        self.bucket = bucket
        self.transport = transport
    }

    public func deliver(_ alert: PendingAlert) async throws -> Bool {
        guard let phone = alert.settings.phone else { throw SendError.permanent("no_phone", "the agent has no phone number for alerts") }
        _ = try await adapter.send(
            OutboundMessage(id: "alert-\(alert.id)", recipient: phone, content: .text(alert.text), context: ConversationContext()), transport: transport)
        return true
    }
}
