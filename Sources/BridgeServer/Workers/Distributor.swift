import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Automatic distribution: hands queued tickets to available agents whenever a ticket opens or is
/// queued, an agent becomes available or a ticket's status frees a slot (and every few seconds).
/// New tickets pass the spam filter first; likely spam goes to the spam box instead of an agent.
/// With a queue message configured, a customer whose new ticket waits is told their place once.
struct Distributor: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let queueMessage: String?
    let spam: BridgeConfig.SpamConfig
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus, when: Self.mayFreeOrFill)
        defer { wakeups.cancel() }
        let registry = self.registry
        do {
            try await inbox.setSpamMinimum(spam.minimumTraining)
        } catch {
            logger.error("could not set the spam filter's minimum", metadata: ["error": "\(error)"])
        }
        await signal.runUntilShutdown("distribution", leaser: leaser, interval: .seconds(5)) {
            do {
                let flagged = try await inbox.screenNewTickets(threshold: spam.threshold, minimum: spam.minimumTraining)
                if !flagged.isEmpty { logger.info("tickets sent to the spam box", metadata: ["tickets.count": "\(flagged.count)"]) }
                let handed = try await inbox.distributeQueued()
                if !handed.isEmpty { logger.debug("tickets distributed", metadata: ["tickets.count": "\(handed.count)"]) }
                guard let queueMessage else { return }
                for ticketId in try await inbox.ticketsAwaitingQueueNotice() {
                    try await inbox.sendQueueNotice(ticketId: ticketId, text: queueMessage) { registry.refusal(for: $0) }
                }
            } catch {
                logger.error("distribution failed", metadata: ["error": "\(error)"])
            }
        }
    }

    @Sendable static func mayFreeOrFill(_ event: InboxEvent) -> Bool {
        switch event {
        case .ticketOpened, .ticketQueued, .agentAvailable, .ticketStatusChanged: true
        default: false
        }
    }
}
