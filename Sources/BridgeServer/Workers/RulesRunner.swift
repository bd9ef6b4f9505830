import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Runs the rules (and acknowledgements, out-of-hours replies) after new tickets, customer messages
/// and status changes, and every 30 seconds for time-based rules.
struct RulesRunner: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { event in
            switch event {
            case .ticketOpened, .messageReceived, .ticketStatusChanged: true
            default: false
            }
        }
        defer { wakeups.cancel() }
        let registry = self.registry
        await signal.runUntilShutdown(interval: .seconds(30)) {
            do {
                while try await inbox.runRules(vet: { registry.refusal(for: $0) }) > 0 {}
            } catch {
                logger.error("rules failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
