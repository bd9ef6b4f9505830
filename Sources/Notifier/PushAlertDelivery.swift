import Logging
import UniversalInbox

/// The `push` medium: the alert goes to every device the agent has on the configured services —
/// browsers by Web Push, phones by FCM and APNs. It reached the agent when any device got it; a
/// service that failed then is logged and not retried (a retry would repeat the alert on the
/// devices that showed it). When no device got it and a service failed, the failure is retried.
public struct PushAlertDelivery: AlertDelivery {
    public let services: [any AlertDelivery]
    public let logger: Logger

    public init(services: [any AlertDelivery], logger: Logger) {
        self.services = services
        self.logger = logger
    }

    public func deliver(_ alert: PendingAlert) async throws -> Bool {
        var reached = false
        var failure: (any Error)?
        for service in services {
            do {
                if try await service.deliver(alert) { reached = true }
            } catch {
                failure = failure ?? error
                logger.warning("a push service failed", metadata: ["agent.id": "\(alert.agentId)", "push.service": "\(type(of: service))", "error": "\(error)"])
            }
        }
        if !reached, let failure { throw failure }
        return reached
    }
}
