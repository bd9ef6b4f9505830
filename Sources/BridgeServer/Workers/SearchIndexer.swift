import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Keeps the full-text index up with new messages, in batches after their commit.
struct SearchIndexer: Service {
    let inbox: Inbox
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus, when: Self.isNewMessage)
        defer { wakeups.cancel() }
        await signal.runUntilShutdown("search-indexer", leaser: leaser, interval: .seconds(1)) {
            // Drain what is waiting, in batches; then let a moment's worth gather.
            do {
                while try await inbox.indexNewMessages(limit: 2000) == 2000 {}
            } catch {
                logger.error("search indexing failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    @Sendable static func isNewMessage(_ event: InboxEvent) -> Bool {
        switch event {
        case .messageReceived, .messageQueued: true
        default: false
        }
    }
}
