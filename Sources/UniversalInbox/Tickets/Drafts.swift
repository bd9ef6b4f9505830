import ChannelKit
import Foundation

/// What an agent has typed in a ticket's composer and not sent yet, kept on the server so it
/// follows the agent to another device. There is one per agent per ticket, keyed by the ticket:
/// a draft is only ever shown (and sent) on the ticket it was written on, never to another
/// customer. Drafts of a merged ticket stay with it (they were written for that conversation).
public struct Draft: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case reply, note
    }

    public var text: String
    public var mode: Mode
    /// The channel account (`kind/id`) the reply should go on; nil for the one the customer last wrote on.
    public var channel: String?
    public var updatedAt: Date

    /// The longest draft: the longest reply or note.
    public static let maxLength = 4096

    public init(text: String, mode: Mode, channel: String?, updatedAt: Date) {
        self.text = text
        self.mode = mode
        self.channel = channel
        self.updatedAt = updatedAt
    }
}

extension Inbox {
    /// The acting agent's draft on a ticket they may read, or nil.
    public func draft(ticketId: Int64, by actor: Caller) async throws -> Draft? {
        let agentId = try Self.draftOwner(actor)
        try await authorize(actor, .read, .ticket(ticketId))
        return try await stores.drafts.draft(ticketId: ticketId, agentId: agentId)
    }

    /// Replaces the acting agent's draft on a ticket; empty text deletes it (and returns nil).
    /// `channel` must be an account the ticket's contact has an identity on.
    public func saveDraft(ticketId: Int64, text: String, mode: Draft.Mode, channel: String?, by actor: Caller) async throws -> Draft? {
        let agentId = try Self.draftOwner(actor)
        guard TextRules.length(text) <= Draft.maxLength else {
            throw InboxError.invalid(code: "text_too_long", message: "a draft is limited to \(Draft.maxLength) characters, like a reply")
        }
        if let channel {
            let parts = channel.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, ChannelKind(rawValue: String(parts[0])) != nil, !parts[1].isEmpty else {
                throw InboxError.invalid(
                    code: "invalid_channel", message: "channel is a channel account, kind/id (e.g. whatsapp/main), with kind one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        try await authorize(actor, .read, .ticket(ticketId))
        guard !text.isEmpty else {
            try await stores.drafts.delete(ticketId: ticketId, agentId: agentId)
            return nil
        }
        let draft = Draft(text: text, mode: mode, channel: channel, updatedAt: Date(ms: clock().ms))
        try await stores.drafts.save(draft, ticketId: ticketId, agentId: agentId)
        return draft
    }

    /// Deletes the acting agent's draft on a ticket (nothing to delete is fine).
    public func deleteDraft(ticketId: Int64, by actor: Caller) async throws {
        _ = try await saveDraft(ticketId: ticketId, text: "", mode: .reply, channel: nil, by: actor)
    }

    private static func draftOwner(_ actor: Caller) throws -> Int64 {
        guard let agentId = actor.agentId else {
            throw InboxError.forbidden(code: "not_an_agent", message: "drafts belong to agents; use an agent's token")
        }
        return agentId
    }
}

extension Schema {
    /// One draft per agent per ticket (`Draft`).
    static let drafts = """
        CREATE TABLE drafts (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            mode TEXT NOT NULL,
            text TEXT NOT NULL,
            channel TEXT,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (ticket_id, agent_id)
        ) WITHOUT ROWID;
        """
}
