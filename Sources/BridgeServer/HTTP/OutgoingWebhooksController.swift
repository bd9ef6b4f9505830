import Foundation
import Hummingbird
import UniversalInbox

/// Outgoing webhooks (owners and admins): where to send ticket and message events, and what happened to them.
struct OutgoingWebhooksController: Sendable {
    let inbox: Inbox
    /// A URL the transport would refuse is refused here already, with the reason.
    let egress: EgressPolicy

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("webhooks") { _, context in
            _ = try context.requireSettingsManager()
            return JSONResponse.make(ItemsDTO(items: try await inbox.webhooks()))
        }
        group.post("webhooks") { request, context in
            struct Body: Decodable {
                var url: String
                var events: [String]?
                var secret: String?
            }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            if let secret = body.secret, TextRules.length(secret) < 16 {
                throw APIError.badRequest("invalid_secret", "a signing secret has at least 16 characters (leave it out to get a generated one)")
            }
            do {
                _ = try await egress.destination(for: body.url)
            } catch {
                throw APIError.unprocessable("invalid_url", "url is not allowed: \(error)")
            }
            let secret = body.secret ?? AccessTokens.generate().replacingOccurrences(of: "brg_", with: "whsec_")
            return JSONResponse.make(try await inbox.createWebhook(url: body.url, secret: secret, events: body.events ?? ["*"]), status: .created)
        }
        group.delete("webhooks/:id") { _, context in
            _ = try context.requireSettingsManager()
            try await inbox.deleteWebhook(id: try context.id())
            return Response(status: .noContent)
        }
        group.get("webhooks/:id/deliveries") { _, context in
            _ = try context.requireSettingsManager()
            let id = try context.id()
            guard let deliveries = try await inbox.webhookDeliveries(webhookId: id) else { throw APIError.notFound("webhook \(id) does not exist") }
            return JSONResponse.make(ItemsDTO(items: deliveries))
        }
        group.post("webhooks/:id/deliveries/:deliveryId/redeliver") { _, context in
            _ = try context.requireSettingsManager()
            try await inbox.redeliver(deliveryId: try context.id("deliveryId"), webhookId: try context.id())
            return Response(status: .accepted)
        }
    }
}
