import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// The retention clean-up (a run-once duty: one process does it at a time): clears messages older
/// than the message period and deletes attachments, with their files, older than the attachment
/// period. Nothing while both periods are unset (the default, keep forever). A backlog is worked
/// through in batches, each a short transaction, until a batch finds nothing.
struct RetentionJanitor: Service {
    let inbox: Inbox
    let interval: Duration
    let leaser: RunOnceLeaser
    let logger: Logger
    var batch = 500

    func run() async throws {
        await WakeSignal().runUntilShutdown("retention", leaser: leaser, interval: interval) {
            do {
                var cleared = 0
                var deleted = 0
                while !Task.isCancelled {
                    let outcome = try await inbox.applyRetention(limit: batch)
                    cleared += outcome.messagesCleared
                    deleted += outcome.attachmentsDeleted
                    if outcome.messagesCleared < batch && outcome.attachmentsDeleted < batch { break }
                }
                if cleared + deleted > 0 {
                    logger.info("applied the retention periods", metadata: ["messages.cleared": "\(cleared)", "attachments.deleted": "\(deleted)"])
                }
            } catch {
                logger.error("could not apply the retention periods", metadata: ["error": "\(error)"])
            }
        }
    }
}
