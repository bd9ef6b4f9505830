import Foundation
import Hummingbird
import UniversalInbox

/// `/api/v1/tickets/{id}/draft`: the calling agent's unsent reply or note on a ticket, kept on
/// the server (see `Draft`). No draft is 204, so a page asking for one gets no error.
struct DraftsController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("tickets/:id/draft") { _, context in
            let draft = try await inbox.draft(ticketId: try context.id(), by: try context.requireCaller())
            return draft.map { JSONResponse.make(DraftDTO($0)) } ?? Response(status: .noContent)
        }
        group.put("tickets/:id/draft") { request, context in
            struct Body: Decodable, NullableFields {
                static var nullableFields: Set<String> { ["channel"] }
                var text: String
                var mode: String?
                var channel: String?
            }
            let (id, actor) = (try context.id(), try context.requireCaller())
            let body = try await request.decode(Body.self)
            let mode = try body.mode.map { try parseEnum($0, as: Draft.Mode.self, field: "mode") } ?? .reply
            let draft = try await inbox.saveDraft(ticketId: id, text: body.text, mode: mode, channel: body.channel, by: actor)
            return draft.map { JSONResponse.make(DraftDTO($0)) } ?? Response(status: .noContent)
        }
        group.delete("tickets/:id/draft") { _, context in
            try await inbox.deleteDraft(ticketId: try context.id(), by: try context.requireCaller())
            return Response(status: .noContent)
        }
    }
}

/// A draft as the API shows it: `channel` is always present (null: the customer's last channel).
struct DraftDTO: Codable {
    var text: String
    var mode: Draft.Mode
    var channel: String?
    var updatedAt: Date

    init(_ draft: Draft) {
        (text, mode, channel, updatedAt) = (draft.text, draft.mode, draft.channel, draft.updatedAt)
    }

    func encode(to encoder: any Encoder) throws {
        enum Keys: String, CodingKey { case text, mode, channel, updatedAt }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(text, forKey: .text)
        try container.encode(mode, forKey: .mode)
        try container.encode(channel, forKey: .channel)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
