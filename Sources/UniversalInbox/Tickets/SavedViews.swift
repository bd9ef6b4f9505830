import Foundation

/// A ticket-list filter saved under a name: an agent's own, or shared with everyone.
public struct SavedView: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    /// The list's query string, e.g. `status=open&tag=vip`.
    public var filter: String
    /// The owner; nil for a shared view.
    public var agentId: Int64?

    public init(id: Int64, name: String, filter: String, agentId: Int64?) {
        self.id = id
        self.name = name
        self.filter = filter
        self.agentId = agentId
    }
}

extension Inbox {
    public func saveView(name: String, filter: String, agentId: Int64?) async throws -> SavedView {
        guard TextRules.isName(name, maxLength: 100) else {
            throw InboxError.invalid(code: "invalid_name", message: "a view needs a name of 1 to 100 characters, not all blank")
        }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard TextRules.length(filter) <= 2000 else { throw InboxError.invalid(code: "invalid_filter", message: "a filter is at most 2000 characters") }
        return try await stores.savedViewStore.add(name: name, filter: filter, agentId: agentId, at: clock())
    }

    /// Shared views and the agent's own.
    public func savedViews(for agentId: Int64?) async throws -> [SavedView] {
        try await stores.savedViewStore.views(for: agentId)
    }

    /// Deletes a view: its owner, or (for shared views) an owner or admin.
    public func deleteView(id: Int64, by actor: Caller) async throws {
        guard let view = try await stores.savedViewStore.view(id: id) else { throw InboxError.notFound("view \(id)") }
        guard view.agentId.map({ $0 == actor.agentId }) ?? actor.managesSettings else {
            throw InboxError.forbidden(code: "not_yours", message: "this view is not yours to delete")
        }
        guard try await stores.savedViewStore.delete(id: id) else { throw InboxError.notFound("view \(id)") }
    }
}
