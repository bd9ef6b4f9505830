import Foundation
import Hummingbird
import UniversalInbox

/// `POST /api/v1/messages/{id}/retry`: the "retry" beside a failed message (see
/// `Inbox.retryFailedMessage`).
struct MessageRetryController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("messages/:id/retry") { _, context in
            let registry = self.registry
            let message = try await inbox.retryFailedMessage(try context.id(), by: try context.requireCaller()) { registry.refusal(for: $0) }
            return JSONResponse.make(MessageDTO(message), status: .accepted)
        }
    }
}
