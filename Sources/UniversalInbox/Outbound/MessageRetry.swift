import ChannelKit
import Foundation

extension Inbox {
    /// Sends a failed outbound message again: an agent who may answer its ticket puts it back in the
    /// outbox, and its status goes back to `queued` (the event log records the change), all in one
    /// transaction. It keeps its idempotency key, as the dispatcher's own retries do, so a platform
    /// that took an earlier attempt after all (LINE's retry key answers 409) does not deliver it
    /// twice. The channel's rules are checked as they stand now (`vet`: a window may have closed
    /// since), and a refusal changes nothing. Not failed (or not outbound): `not_failed`.
    public func retryFailedMessage(_ messageId: Int64, by actor: Caller, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> StoredMessage {
        let ticketId = try await stores.outbox.requeueFailed(
            messageId: messageId, at: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) }, vet: vet)
        bus.publish([.messageQueued(ticketId: ticketId, messageId: messageId)])
        guard let message = try await message(id: messageId) else { throw InboxError.notFound("message \(messageId)") }
        return message
    }
}
