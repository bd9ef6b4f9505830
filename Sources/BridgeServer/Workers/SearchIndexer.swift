import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Keeps the full-text index up with new messages, in batches after their commit.
struct SearchIndexer: Service {
    let inbox: Inbox
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let events = Task {
            for await event in inbox.bus.subscribe() {
                switch event {
                case .messageReceived, .messageQueued: signal.signal()
                default: break
                }
            }
        }
        defer { events.cancel() }
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                var indexed = 0
                do {
                    indexed = try await inbox.indexNewMessages(limit: 2000)
                } catch {
                    logger.error("search indexing failed", metadata: ["error": "\(error)"])
                }
                // A full batch means more are waiting; otherwise gather a moment's worth.
                if indexed < 2000 { await signal.wait(timeout: .seconds(1)) }
                if indexed < 2000 { try? await Task.sleep(for: .milliseconds(200)) }
            }
        } onGracefulShutdown: {
            stop.set()
            signal.signal()
        }
    }
}
