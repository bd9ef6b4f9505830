import ChannelKit
import Foundation
import Hummingbird
import Logging

/// `GET /api/v1/channels/{channel}/templates`: the approved message templates an agent may send on
/// a channel account (WhatsApp), for the page's template picker. Cached briefly per account.
struct TemplatesController: Sendable {
    let registry: ChannelRegistry
    let transport: any HTTPTransport
    let cache: TemplateCache
    let logger: Logger

    struct Item: Encodable {
        var name: String
        var language: String
        var category: String
        /// With `{{1}}`… placeholders, as the platform writes them.
        var body: String
        /// How many body parameters a send carries.
        var parameters: Int
    }

    struct List: Encodable { var templates: [Item] }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("channels/:channel/templates") { request, context in
            _ = try context.requireCaller()
            let kind = try parseEnum(context.parameters.get("channel") ?? "", as: ChannelKind.self, field: "channel")
            let adapter = try account(kind, named: try request.query().single("account").map(String.init))
            guard let catalog = adapter as? any TemplateCatalog else {
                throw APIError.unprocessable("templates_unsupported", "\(kind.rawValue) has no message templates; answer with text")
            }
            if let problem = catalog.templateCatalogProblem {
                throw APIError(status: .conflict, code: "templates_not_configured", message: problem)
            }
            let key = adapter.account.key
            let templates: [MessageTemplate]
            do {
                templates = try await cache.templates(for: key) { try await catalog.approvedTemplates(transport: transport) }
            } catch {
                let failure = SendError.classify(error)
                logger.warning("template list failed", metadata: ["account": "\(key)", "code": "\(failure.code)", "reason": "\(failure.reason)"])
                throw APIError(
                    status: .badGateway, code: "platform_error",
                    message: "\(kind.rawValue) did not list the templates of \(key): \(failure.reason)")
            }
            return JSONResponse.make(List(templates: templates.map {
                Item(name: $0.name, language: $0.language, category: $0.category, body: $0.bodyText, parameters: $0.parameterCount)
            }))
        }
    }

    /// The account asked for (`account` as its id or `kind/id` key), or the only one of its kind.
    private func account(_ kind: ChannelKind, named name: String?) throws -> any ChannelAdapter {
        let ofKind = registry.accounts.filter { $0.kind == kind }
        if let name {
            let id = name.hasPrefix(kind.rawValue + "/") ? String(name.dropFirst(kind.rawValue.count + 1)) : name
            guard let adapter = registry.adapter(kind: kind, id: id) else { throw APIError.notFound("channel account \(kind.rawValue)/\(id)") }
            return adapter
        }
        guard let only = ofKind.first else { throw APIError.notFound("a \(kind.rawValue) channel account") }
        guard ofKind.count == 1, let adapter = registry.adapter(for: only.key) else {
            throw APIError.unprocessable(
                "account_required", "several \(kind.rawValue) accounts are configured; name one with account (\(ofKind.map(\.id).joined(separator: ", ")))")
        }
        return adapter
    }
}
