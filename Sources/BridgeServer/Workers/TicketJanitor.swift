import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Closes tickets that stayed resolved longer than the configured period (default 14 days),
/// keeps the event log to its newest million entries, and deletes agents' uploaded images older
/// than `media.uploadRetention` (default 30 days).
struct TicketJanitor: Service {
    let inbox: Inbox
    let autoCloseAfter: TimeInterval
    let interval: Duration
    var uploads: UploadStore? = nil
    var uploadRetention: TimeInterval = 30 * 86400
    let leaser: RunOnceLeaser
    let logger: Logger

    func run() async throws {
        await WakeSignal().runUntilShutdown("janitor", leaser: leaser, interval: interval) {
            do {
                let closed = try await inbox.closeResolvedTickets(resolvedBefore: Date().addingTimeInterval(-autoCloseAfter))
                if closed > 0 { logger.info("closed resolved tickets", metadata: ["tickets.closed": "\(closed)"]) }
                let pruned = try await inbox.pruneEventLog()
                if pruned > 0 { logger.info("pruned the event log", metadata: ["events.pruned": "\(pruned)"]) }
                if let uploads {
                    let deleted = uploads.deleteOlder(than: Date().addingTimeInterval(-uploadRetention))
                    if deleted > 0 { logger.info("deleted expired uploads", metadata: ["uploads.deleted": "\(deleted)"]) }
                }
            } catch {
                logger.error("could not close resolved tickets", metadata: ["error": "\(error)"])
            }
        }
    }
}
