import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Closes tickets that stayed resolved longer than the configured period (default 14 days), and
/// keeps the event log to its newest million entries.
struct TicketJanitor: Service {
    let inbox: Inbox
    let autoCloseAfter: TimeInterval
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let closed = try await inbox.closeResolvedTickets(resolvedBefore: Date().addingTimeInterval(-autoCloseAfter))
                    if closed > 0 { logger.info("closed resolved tickets", metadata: ["tickets.closed": "\(closed)"]) }
                    let pruned = try await inbox.pruneEventLog()
                    if pruned > 0 { logger.info("pruned the event log", metadata: ["events.pruned": "\(pruned)"]) }
                } catch {
                    logger.error("could not close resolved tickets", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
