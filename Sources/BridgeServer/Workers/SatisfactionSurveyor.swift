import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Sends a rating request to the customer of each resolved ticket (once), with Good / Bad buttons
/// where the platform has them. Works from the database, so a restart misses none.
struct SatisfactionSurveyor: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let config: BridgeConfig.SatisfactionConfig
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .ticketStatusChanged(_, .resolved) = $0 { true } else { false } }
        defer { wakeups.cancel() }
        let choices = [MessageContent.Choice(label: config.good, payload: "rating:good"), MessageContent.Choice(label: config.bad, payload: "rating:bad")]
        let registry = self.registry
        await signal.runUntilShutdown("satisfaction", leaser: leaser, interval: .seconds(30)) {
            do {
                for ticketId in try await inbox.ticketsAwaitingRatingRequest() {
                    try await inbox.requestRating(ticketId: ticketId, question: config.question, choices: choices) { registry.refusal(for: $0) }
                }
            } catch {
                logger.error("rating requests failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
