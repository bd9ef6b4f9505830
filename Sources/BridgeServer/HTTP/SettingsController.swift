import Foundation
import Hummingbird
import HummingbirdCore
import UniversalInbox

/// Helpdesk settings: custom fields, canned responses, forbidden words. Owners and admins manage
/// fields, forbidden words and shared canned responses; an agent may keep canned responses of its own.
struct SettingsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("fields") { _, _ in JSONResponse.make(ItemsDTO(items: try await inbox.fields())) }
        group.post("fields") { request, context in
            struct Body: Decodable {
                var scope: String?
                var key: String
                var label: String
                var type: String
                var options: [String]?
            }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            let field = CustomField(
                scope: try body.scope.map { try parseEnum($0, as: CustomField.Scope.self, field: "scope") } ?? .ticket, key: body.key, label: body.label,
                type: try parseEnum(body.type, as: CustomField.Kind.self, field: "type"), options: body.options)
            return JSONResponse.make(try await inbox.createField(field), status: .created)
        }
        group.delete("fields/:id") { _, context in
            _ = try context.requireSettingsManager()
            try await inbox.deleteField(id: try context.id())
            return Response(status: .noContent)
        }

        group.get("canned-responses") { request, context in try await canned(request, context) }
        group.post("canned-responses") { request, context in try await createCanned(request, context) }
        group.patch("canned-responses/:id") { request, context in
            /// `departmentId` left out keeps the department; `null` makes the response global.
            struct Body: Decodable, NullableFields {
                static let nullableFields: Set<String> = ["departmentId"]
                var change = CannedResponseChange()
                enum Keys: String, CodingKey { case shortcut, title, text, departmentId }
                init(from decoder: any Decoder) throws {
                    let c = try decoder.container(keyedBy: Keys.self)
                    change.shortcut = try c.decodeIfPresent(String.self, forKey: .shortcut)
                    change.title = try c.decodeIfPresent(String.self, forKey: .title)
                    change.text = try c.decodeIfPresent(String.self, forKey: .text)
                    if c.contains(.departmentId) { change.departmentId = .some(try c.decodeIfPresent(Int64.self, forKey: .departmentId)) }
                }
            }
            let actor = try context.requireCaller()
            let id = try context.id()
            let body = try await request.decode(Body.self)
            return JSONResponse.make(try await inbox.updateCannedResponse(id: id, body.change, by: actor))
        }
        group.delete("canned-responses/:id") { _, context in
            try await inbox.deleteCannedResponse(id: try context.id(), by: try context.requireCaller())
            return Response(status: .noContent)
        }

        group.get("views") { _, context in
            struct View: Encodable {
                var id: String
                var name: String
                var filter: String
                var shared: Bool
            }
            let actor = try context.requireCaller()
            let builtIn = [("unassigned", "Unassigned"), ("mine", "Mine"), ("my-pending", "My pending"), ("spam", "Spam")].map {
                View(id: $0.0, name: $0.1, filter: "view=\($0.0)", shared: true)
            }
            let saved = try await inbox.savedViews(for: actor.agentId).map { View(id: String($0.id), name: $0.name, filter: $0.filter, shared: $0.agentId == nil) }
            return JSONResponse.make(ItemsDTO(items: builtIn + saved))
        }
        group.post("views") { request, context in
            struct Body: Decodable {
                var name: String
                var filter: String
                var shared: Bool?
            }
            let actor = try context.requireCaller()
            let body = try await request.decode(Body.self)
            if body.shared == true { _ = try context.requireSettingsManager() }
            guard body.shared == true || actor.agentId != nil else { throw APIError.notAnAgent("only an agent has views of its own; send shared") }
            _ = try await TicketFilter.query(filter: body.filter, actor: actor, inbox: inbox)  // refuse a filter the list would refuse
            return JSONResponse.make(try await inbox.saveView(name: body.name, filter: body.filter, agentId: body.shared == true ? nil : actor.agentId), status: .created)
        }
        group.delete("views/:id") { _, context in
            try await inbox.deleteView(id: try context.id(), by: try context.requireCaller())
            return Response(status: .noContent)
        }

        group.get("forbidden-words") { _, _ in JSONResponse.make(ItemsDTO(items: try await inbox.forbiddenWords())) }
        group.post("forbidden-words") { request, context in
            struct Body: Decodable { var word: String }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            return JSONResponse.make(ItemsDTO(items: try await inbox.addForbiddenWord(body.word)), status: .created)
        }
        group.delete("forbidden-words/:word") { _, context in
            _ = try context.requireSettingsManager()
            let word = context.parameters.get("word")?.removingPercentEncoding ?? ""
            return JSONResponse.make(ItemsDTO(items: try await inbox.removeForbiddenWord(word)))
        }
        group.post("forbidden-words/check") { request, _ in
            struct Body: Decodable { var text: String }
            struct Matches: Encodable { var matches: [ForbiddenMatch] }
            let body = try await request.decode(Body.self)
            return JSONResponse.make(Matches(matches: try await inbox.forbiddenMatches(in: body.text)))
        }
    }

    /// `GET /api/v1/canned-responses[?ticketId=N]`: those the caller may use; with a ticket, each
    /// also `rendered` for it.
    func canned(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Item: Encodable {
            var response: CannedResponse
            var rendered: String?
            func encode(to encoder: any Encoder) throws {
                try response.encode(to: encoder)
                var container = encoder.container(keyedBy: Keys.self)
                try container.encodeIfPresent(rendered, forKey: .rendered)
            }
            enum Keys: String, CodingKey { case rendered }
        }
        let actor = try context.requireCaller()
        var ticketId: Int64?
        if let id = try request.query().id("ticketId") {
            try await inbox.authorize(actor, .read, .ticket(id))
            ticketId = id
        }
        let responses = try await inbox.cannedResponses(for: actor)
        let rendered = try await ticketId.asyncMap { try await inbox.renderCannedResponses(responses, ticketId: $0, by: actor) }
        return JSONResponse.make(ItemsDTO(items: responses.enumerated().map { Item(response: $1, rendered: rendered?[$0]) }))
    }

    /// Agents add their own (`"mine": true`, the default for agents); owners and admins add global
    /// ones or a department's.
    func createCanned(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable {
            var shortcut: String
            var title: String?
            var text: String
            var departmentId: Int64?
            var mine: Bool?
        }
        let actor = try context.requireCaller()
        let body = try await request.decode(Body.self)
        let mine = body.mine ?? !actor.managesSettings
        if !mine { _ = try context.requireSettingsManager() }
        guard !mine || actor.agentId != nil else { throw APIError.notAnAgent("\"mine\" needs an agent's token") }
        let response = try await inbox.createCannedResponse(
            shortcut: body.shortcut, title: body.title ?? "", text: body.text, agentId: mine ? actor.agentId : nil, departmentId: mine ? nil : body.departmentId)
        return JSONResponse.make(response, status: .created)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
