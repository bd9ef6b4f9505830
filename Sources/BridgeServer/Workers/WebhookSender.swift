import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Outgoing webhooks: turns the event log's new tickets, messages and history entries into
/// deliveries (a durable cursor over the log, so nothing is skipped across restarts), then POSTs
/// them, signed, one at a time per webhook in the log's order, retrying with the dispatcher's
/// backoff on 408, 429, 5xx and network errors.
///
/// Headers: `X-Bridge-Event`, `X-Bridge-Delivery` (id, the same on retries), `X-Bridge-Timestamp`
/// (Unix seconds) and `X-Bridge-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
struct WebhookSender: Service {
    let inbox: Inbox
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        // Feeding (the log → deliveries) runs at most every 100 ms however busy
        // ingest is, and costs one read while no webhook exists; sending wakes when deliveries wait.
        let feedSignal = WakeSignal()
        let feedWakeups = feedSignal.follow(inbox.bus) { event in
            switch event {
            case .ticketOpened, .messageReceived, .messageQueued, .ticketStatusChanged, .ticketAssigned, .ticketQueued: true
            default: false
            }
        }
        let sendWakeups = signal.follow(inbox.bus) { if case .webhookEventsQueued = $0 { true } else { false } }
        defer {
            feedWakeups.cancel()
            sendWakeups.cancel()
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                await feedSignal.runFeed(interval: .seconds(2), name: "webhooks", leaser: leaser, logger: logger) {
                    try await inbox.feedWebhooks()
                }
            }
            group.addTask {
                await WorkLoop<WebhookDelivery>(
                    name: "webhooks", maxInFlight: 8, pollInterval: .seconds(2), signal: signal, logger: logger,
                    claim: { limit in try await inbox.claimWebhookDeliveries(limit: limit, lease: 60) },
                    perform: { delivery in await send(delivery) }
                ).run()
            }
        }
    }

    func send(_ delivery: WebhookDelivery) async {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let body = Data(delivery.payload.utf8)
        let request = TransportRequest(
            method: "POST", url: delivery.url,
            headers: [
                ("Content-Type", "application/json"), ("User-Agent", "omnichannel-bridge-webhooks"), ("X-Bridge-Event", delivery.event),
                ("X-Bridge-Delivery", String(delivery.id)), ("X-Bridge-Timestamp", timestamp),
                ("X-Bridge-Signature", "sha256=" + Self.signature(secret: delivery.secret, timestamp: timestamp, body: body)),
            ], body: body)
        let failure: SendError?
        do {
            let response = try await transport.perform(request, maxResponseBytes: 64 << 10)
            switch response.status {
            case 200..<300: failure = nil
            case 408, 429, 500...599: failure = .retryable("http_\(response.status)", "the receiver answered \(response.status)", after: response.retryAfter)
            default: failure = .permanent("http_\(response.status)", "the receiver refused the delivery with \(response.status)")
            }
        } catch {
            failure = SendError.classify(error)
        }
        var log = logger
        log[metadataKey: "webhook.id"] = "\(delivery.webhookId)"
        log[metadataKey: "delivery.id"] = "\(delivery.id)"
        do {
            guard let failure else { return try await inbox.webhookDelivered(delivery, error: nil, retryAt: nil) }
            switch retry.decide(after: failure, attempt: delivery.attempts + 1) {
            case .retry(let delay):
                try await inbox.webhookDelivered(delivery, error: failure.description, retryAt: Date().addingTimeInterval(delay.timeInterval))
                log.warning("webhook delivery failed, will retry", metadata: ["error.code": "\(failure.code)"])
            case .giveUp(let final):
                try await inbox.webhookDelivered(delivery, error: final.description, retryAt: nil)
                log.warning("webhook delivery failed", metadata: ["error.code": "\(final.code)", "error.reason": "\(final.reason)"])
            }
        } catch {
            log.error("could not record a webhook delivery", metadata: ["error": "\(error)"])
        }
    }

    static func signature(secret: String, timestamp: String, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        return Signatures.hmacSHA256Hex(secret: secret, body: message)
    }
}
