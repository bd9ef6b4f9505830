import Foundation
import Hummingbird
import UniversalInbox

/// The e-mail opt-out list (owners and admins): addresses that get no campaign e-mail, whether
/// they used a mail's unsubscribe link or were added here. A campaign's start and preview skip
/// them with the reason `unsubscribed`.
struct EmailOptOutsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("email-opt-outs") { request, context in
            _ = try context.requireSettingsManager()
            let params = try request.query()
            let items = try await inbox.emailOptOuts(
                after: try params.single("after").map(String.init), limit: Int(try params.integer("limit", in: 1...1000) ?? 100))
            return JSONResponse.make(ItemsDTO(items: items))
        }
        group.post("email-opt-outs") { request, context in
            let actor = try context.requireSettingsManager()
            struct Body: Decodable { var address: String }
            let body = try await request.decode(Body.self)
            let added = try await inbox.addEmailOptOut(body.address, source: EmailOptOut.consoleSource, by: actor.label)
            let entry = try await inbox.emailOptOut(body.address)
            return JSONResponse.make(entry, status: added ? .created : .ok)
        }
        group.delete("email-opt-outs/:address") { _, context in
            _ = try context.requireSettingsManager()
            // Path parameters come percent-encoded (`ann%40example.com` from a browser's encodeURIComponent).
            let raw = context.parameters.get("address") ?? ""
            try await inbox.removeEmailOptOut(raw.removingPercentEncoding ?? raw)
            return Response(status: .noContent)
        }
    }
}
