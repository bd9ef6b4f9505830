import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Runs the rules (and acknowledgements, out-of-hours replies) after new tickets, customer messages
/// and status changes (at most one pass per 50 ms), and every 30 seconds for time-based rules.
struct RulesRunner: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let leaser: RunOnceLeaser
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
        await signal.runUntilShutdown("rules", leaser: leaser, interval: .seconds(30)) {
            do {
                while try await inbox.runRules(limit: 200, vet: { registry.refusal(for: $0) }) == 200 {}
            } catch {
                logger.error("rules failed", metadata: ["error": "\(error)"])
            }
            // Let a busy moment's events gather: one pass per 50 ms at most.
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
