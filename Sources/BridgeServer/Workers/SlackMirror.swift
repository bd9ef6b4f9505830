import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import SlackChannel
import UniversalInbox

/// Keeps a Slack channel in step with the ticket stream: a parent message per ticket (with Claim,
/// Resolve and Spam buttons), each later customer message and each reply sent from elsewhere in its
/// thread, and the delivery outcome of replies. It follows the stream from a cursor kept in the
/// database, so a restart resumes where it stopped; each read moves the cursor past what it
/// returns, so a message is posted at most once even when two processes follow one console.
struct SlackMirror: Service {
    let console: SlackConsole
    let inbox: Inbox
    let transport: any HTTPTransport
    let leaser: RunOnceLeaser
    /// Where the console's bucket keeps its balance, under the console's account key.
    let rateLimits: any RateLimitLedger
    let logger: Logger
    let signal = WakeSignal()

    var account: String { console.accountKey }

    func run() async throws {
        let bucket = TokenBucket(limit: console.configuration.rateLimit, name: account, ledger: rateLimits)
        let wakeups = signal.follow(inbox.bus, when: SearchIndexer.isNewMessage)
        let outcomes = Task {
            for await event in inbox.bus.subscribe() {
                if case .messageStatusChanged(let id, let status) = event { await postOutcome(messageId: id, status: status, bucket: bucket) }
            }
        }
        defer {
            wakeups.cancel()
            outcomes.cancel()
        }
        await signal.runUntilShutdown("slack-mirror/\(account)", leaser: leaser, interval: .seconds(2)) { await mirrorNew(bucket: bucket) }
    }

    func mirrorNew(bucket: TokenBucket) async {
        while true {
            let items: [ConsoleItem]
            do {
                items = try await inbox.consoleFeed(account: account, limit: 50)
            } catch {
                logger.error("slack mirror could not read the stream", metadata: ["error": "\(error)"])
                return
            }
            guard let last = items.last else { return }
            for item in items {
                do {
                    try await mirror(item, bucket: bucket)
                } catch let error as SendError where error.isRetryable {
                    logger.warning("slack post failed, will retry", metadata: ["error.code": "\(error.code)"])
                    // The next round tries this message again, unless another process took later ones meanwhile.
                    let givenBack = try? await inbox.giveBackConsole(account: account, from: item.message.id, takenThrough: last.message.id)
                    if givenBack != true { logger.warning("slack messages skipped: the stream moved on", metadata: ["message.id": "\(item.message.id)"]) }
                    return
                } catch {
                    logger.error("slack post failed", metadata: ["error": "\(error)", "message.id": "\(item.message.id)"])
                }
            }
        }
    }

    func mirror(_ item: ConsoleItem, bucket: TokenBucket) async throws {
        let message = item.message
        let customer = item.ticket.contact.displayName ?? "Customer \(item.ticket.contact.id)"
        switch message.direction {
        case .inbound:
            try await bucket.acquire()
            if let thread = item.thread {
                try await console.postInThread(thread, text: "*\(customer)* (\(message.channel)): \(message.text)", transport: transport)
            } else {
                let ts = try await console.postTicket(
                    ticketId: item.ticket.id, customer: customer, channel: message.channel, text: message.text, transport: transport)
                try await inbox.setConsoleThread(account: account, ticketId: item.ticket.id, channel: console.configuration.channel, thread: ts)
            }
        case .outbound:
            // An agent's own Slack reply is already in the thread.
            guard let thread = item.thread, message.author?.hasPrefix("slack:") != true else { return }
            try await bucket.acquire()
            try await console.postInThread(thread, text: "→ _reply on \(message.channel)_: \(message.text)", transport: transport)
        }
    }

    /// Shows in the thread what became of a reply: sent, delivered, or failed with the reason.
    func postOutcome(messageId: Int64, status: DeliveryStatus, bucket: TokenBucket) async {
        guard status == .sent || status == .delivered || status == .failed else { return }
        do {
            guard let message = try await inbox.message(id: messageId), message.direction == .outbound,
                let thread = try await inbox.consoleThread(account: account, ticketId: message.ticketId)
            else { return }
            let line =
                switch status {
                case .failed: "❌ not delivered on \(message.channel): \(message.failureReason ?? message.failureCode ?? "failed")"
                case .delivered: "✅ delivered on \(message.channel): \(message.text.prefix(60))"
                default: "✓ sent on \(message.channel): \(message.text.prefix(60))"
                }
            try await bucket.acquire()
            try await console.postInThread(thread, text: line, transport: transport)
        } catch {
            logger.warning("could not post a delivery outcome to slack", metadata: ["error": "\(error)", "message.id": "\(messageId)"])
        }
    }
}
