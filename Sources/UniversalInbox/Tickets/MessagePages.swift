import Foundation
import GRDB

/// A page of a ticket's conversation: long conversations load newest page first, older on demand.
public struct MessagePage: Sendable, Equatable {
    /// In conversation order (oldest first) within the page.
    public var items: [StoredMessage]
    /// Pass back as `before` for the page of older messages; nil on the oldest page.
    public var nextBefore: Int64?
}

extension Inbox {
    /// Up to `limit` messages of a ticket that come before message `before` in conversation order
    /// (created, then id), or the newest ones without `before`; nil if there is no such ticket.
    /// Walks `messages_ticket` backwards from the position, so a page costs the same at any depth.
    public func messagePage(ticketId: Int64, before: Int64?, limit: Int) async throws -> MessagePage? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            var condition = ""
            var arguments: StatementArguments = [ticketId]
            if let before {
                guard let position = try Row.fetchOne(
                    db, sql: "SELECT created_at, id FROM messages WHERE id = ? AND ticket_id = ?", arguments: [before, ticketId])
                else {
                    throw InboxError.unprocessable(code: "invalid_before", message: "message \(before) is not in ticket \(ticketId)")
                }
                condition = " AND (created_at, id) < (?, ?)"
                _ = arguments.append(contentsOf: [position["created_at"] as Int64, position["id"] as Int64])
            }
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM messages WHERE ticket_id = ?\(condition) ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)
                """, arguments: arguments)
            let page = Array(rows.prefix(limit).reversed())
            let ids = page.map { $0["id"] as Int64 }
            let attachments = ids.isEmpty
                ? [:] : Dictionary(grouping: try Self.attachments(db, where: "message_id IN (\(ids.map(String.init).joined(separator: ",")))", []), by: \.messageId)
            return MessagePage(
                items: try page.map { try Self.message($0, attachments: attachments[$0["id"]] ?? []) },
                nextBefore: rows.count > limit ? ids.first : nil)
        }
    }
}
