import ChannelKit
import Foundation
import GRDB

/// A website visitor's view of their conversation: the messages on their own channel identity
/// (what they wrote and the replies sent to them), never notes (kept apart), never what the same
/// contact wrote on other channels or as another visitor, never another visitor's. Only website
/// chat identities are visitors' (their messages are what `messages_visitor` indexes, v41): asked
/// for an identity of another channel, the message and ticket reads find nothing. `TicketQueryStore`
/// refines it, so each database's ticket read store keeps it (contract:
/// Tests/StoreTests/Contract/VisitorConversationContractTests.swift).
public protocol VisitorConversationStore: Sendable {
    /// Up to `limit` messages on identity (`account`, `visitorId`) with an id above `after`, oldest first.
    func visitorMessages(account: String, visitorId: String, after: Int64, limit: Int) async throws -> [StoredMessage]
    /// Those of `ids` that are messages on identity (`account`, `visitorId`), oldest first.
    func visitorMessages(account: String, visitorId: String, ids: [Int64]) async throws -> [StoredMessage]
    /// Those of `ids` that are messages on an identity of `channel`, each with that identity's account
    /// and user id, in id order: whose each new message is, asked once for all of a process's
    /// visitor feeds (`VisitorLog`); each feed then reads only its own with `visitorMessages(…ids:)`.
    func messageIdentities(ids: [Int64], channel: String) async throws -> [MessageIdentity]
    /// The ticket of the visitor's newest message: the chat the visitor is in now; nil before any.
    func visitorTicket(account: String, visitorId: String) async throws -> Int64?
    /// Records the visitor's rating of the ticket of their newest message (`ratings`, for the
    /// ticket's agent, state `widget`; a second rating replaces the first) and its history entry
    /// `rated` by the customer, in one transaction. Returns the ticket; nil before any message.
    func rateVisitorTicket(account: String, visitorId: String, rating: Rating, at now: Date) async throws -> Int64?
    /// The contact the visitor's identity belongs to; nil before the visitor wrote anything.
    func visitorContact(account: String, visitorId: String) async throws -> Int64?
    /// The oldest contact other than `excluding` whose e-mail address is `email`, compared with
    /// ASCII letters in lower case (as the opt-out list compares): whom an address given in the
    /// widget's offline form links the visitor to.
    func contact(email: String, excluding: Int64) async throws -> Int64?
}

/// A message and the identity it is on: the account and the user id there (a visitor's id on
/// the website chat).
public struct MessageIdentity: Sendable, Equatable {
    public var messageId: Int64
    public var account: String
    public var userId: String

    public init(messageId: Int64, account: String, userId: String) {
        self.messageId = messageId
        self.account = account
        self.userId = userId
    }
}

extension Inbox {
    /// The visitor's messages after `after` (see `VisitorConversationStore`).
    public func visitorMessages(account: String, visitorId: String, after: Int64 = 0, limit: Int = 200) async throws -> [StoredMessage] {
        try await stores.ticketQueries.visitorMessages(account: account, visitorId: visitorId, after: after, limit: limit)
    }

    /// The ticket the visitor is in now (of their newest message).
    public func visitorTicket(account: String, visitorId: String) async throws -> Int64? {
        try await stores.ticketQueries.visitorTicket(account: account, visitorId: visitorId)
    }

    /// The visitor rates the chat they are in (the ticket's satisfaction); the ticket, or nil
    /// before the visitor wrote anything.
    public func rateVisitorTicket(account: String, visitorId: String, rating: Rating) async throws -> Int64? {
        try await stores.ticketQueries.rateVisitorTicket(account: account, visitorId: visitorId, rating: rating, at: clock())
    }

    /// A visitor's offline message (nobody online) is filed like any of their messages by the
    /// caller; then what they typed is recorded without trusting it (anyone can type anyone's
    /// address):
    /// - their own contact (one whose only identity is this visitor) gets the name; a contact an
    ///   agent has linked already (it has other identities) is never changed;
    /// - the address goes in an internal note on the visitor's ticket, naming the contact that has
    ///   it if one does; it becomes the contact's, or joins the visitor to that contact, only once
    ///   the visitor types the code mailed to it (`confirmVisitorAddress`). Trusting
    ///   it earlier would let a visitor read a customer's history through the agents and receive
    ///   replies meant for them, or collect the mail tickets of an address that is not theirs.
    /// `confirming`: a confirmation code was mailed (the note says so). Returns the contact the
    /// visitor is, or nil before they wrote anything.
    public func identifyVisitor(account: String, visitorId: String, name: String, email: String, confirming: Bool) async throws -> Int64? {
        guard let contactId = try await stores.ticketQueries.visitorContact(account: account, visitorId: visitorId) else { return nil }
        if let contact = try await stores.contactStore.contact(id: contactId), contact.identities.count == 1 {
            _ = try await updateContact(contactId, ContactChanges(displayName: name))
        }
        let address = email.trimmingCharacters(in: .whitespaces)
        let existing = try await stores.ticketQueries.contact(email: Self.optOutKey(address), excluding: contactId)
        if let ticketId = try await stores.ticketQueries.visitorTicket(account: account, visitorId: visitorId) {
            let owner = existing.map { ", which contact #\($0) has" } ?? ""
            let next = confirming
                ? "A confirmation code was mailed to it; once the visitor types it in the chat, the address is theirs\(existing == nil ? "" : " and the contacts are linked")."
                : "It is not confirmed\(existing == nil ? "" : ": link the contacts if they are the same person")."
            _ = try await stores.ticketStore.addNote(
                ticketId: ticketId, text: "The visitor gave the address \(address)\(owner). \(next)", agentId: nil, author: "Website chat", at: clock())
        }
        return contactId
    }

    /// The visitor typed the code mailed to `email`: they read its mail, so they are the customer
    /// with that address. Their own contact (whose only identity is this visitor) joins the contact
    /// that has the address (its identities and tickets move there: a widget chat and the same
    /// person's e-mail are one customer), or gets the address when no contact has it. A contact an
    /// agent linked to other channels, or one with another address, is not changed: a note asks an
    /// agent. Idempotent. Returns the contact the visitor is now, or nil when the visitor never wrote.
    public func confirmVisitorAddress(account: String, visitorId: String, email: String) async throws -> Int64? {
        guard let contactId = try await stores.ticketQueries.visitorContact(account: account, visitorId: visitorId),
            let contact = try await stores.contactStore.contact(id: contactId)
        else { return nil }
        let address = email.trimmingCharacters(in: .whitespaces)
        let existing = try await stores.ticketQueries.contact(email: Self.optOutKey(address), excluding: contactId)
        if let existing, contact.identities.count == 1 {
            _ = try await linkContacts(existing, absorbing: contactId)
            return existing
        }
        if contact.email.map(Self.optOutKey) == Self.optOutKey(address) { return contactId }
        if existing == nil, contact.email == nil {
            _ = try await updateContact(contactId, ContactChanges(email: .some(address)))
            return contactId
        }
        if let ticketId = try await stores.ticketQueries.visitorTicket(account: account, visitorId: visitorId) {
            let owner = existing.map { ", which contact #\($0) has" } ?? ""
            _ = try await stores.ticketStore.addNote(
                ticketId: ticketId,
                text: "The visitor confirmed the address \(address)\(owner) (they typed the code mailed to it). Their contact has other channels or another address, so nothing was changed: link the contacts if they are the same person.",
                agentId: nil, author: "Website chat", at: clock())
        }
        return contactId
    }

    /// Those of `ids` that are the visitor's messages.
    public func visitorMessages(account: String, visitorId: String, ids: [Int64]) async throws -> [StoredMessage] {
        guard !ids.isEmpty else { return [] }
        return try await stores.ticketQueries.visitorMessages(account: account, visitorId: visitorId, ids: ids)
    }

    /// Those of `ids` that are on an identity of `channel`, with its account and user id.
    public func messageIdentities(ids: [Int64], channel: ChannelKind) async throws -> [MessageIdentity] {
        guard !ids.isEmpty else { return [] }
        return try await stores.ticketQueries.messageIdentities(ids: ids, channel: channel.rawValue)
    }
}

extension SQLiteTicketQueryStore {
    public func visitorMessages(account: String, visitorId: String, after: Int64, limit: Int) async throws -> [StoredMessage] {
        try await read(account: account, visitorId: visitorId, condition: "id > ? ORDER BY id LIMIT ?", [after, limit])
    }

    public func visitorMessages(account: String, visitorId: String, ids: [Int64]) async throws -> [StoredMessage] {
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        return try await read(account: account, visitorId: visitorId, condition: "id IN (\(marks)) ORDER BY id", StatementArguments(ids))
    }

    public func messageIdentities(ids: [Int64], channel: String) async throws -> [MessageIdentity] {
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        var all = StatementArguments(ids)
        _ = all.append(contentsOf: [channel])
        let arguments = all
        return try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, i.account, i.platform_user_id FROM messages m JOIN identities i ON i.id = m.identity_id
                    WHERE m.id IN (\(marks)) AND i.channel = ? ORDER BY m.id
                    """,
                arguments: arguments
            ).map { MessageIdentity(messageId: $0[0], account: $0[1], userId: $0[2]) }
        }
    }

    public func visitorTicket(account: String, visitorId: String) async throws -> Int64? {
        try await database.pool.read { db in try Self.visitorTicket(db, account: account, visitorId: visitorId) }
    }

    public func rateVisitorTicket(account: String, visitorId: String, rating: Rating, at now: Date) async throws -> Int64? {
        try await database.pool.write { db in
            guard let ticketId = try Self.visitorTicket(db, account: account, visitorId: visitorId) else { return nil }
            let at = now.ms
            try db.execute(
                sql: """
                    INSERT INTO ratings (ticket_id, contact_id, agent_id, requested_at, state, choices, rating, rated_at)
                    SELECT id, contact_id, agent_id, ?, 'widget', '[]', ?, ? FROM tickets WHERE id = ?
                    ON CONFLICT (ticket_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at
                    """,
                arguments: [at, rating.rawValue, at, ticketId])
            try Inbox.record(db, ticketId: ticketId, "rated", by: "customer", ["rating": rating.rawValue], at: at)
            return ticketId
        }
    }

    public func visitorContact(account: String, visitorId: String) async throws -> Int64? {
        try await database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT contact_id FROM identities WHERE account = ? AND platform_user_id = ?", arguments: [account, visitorId])
        }
    }

    public func contact(email: String, excluding: Int64) async throws -> Int64? {
        try await database.pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT id FROM contacts WHERE lower(email) = ? AND id <> ? ORDER BY id LIMIT 1", arguments: [email, excluding])
        }
    }

    /// The ticket of the visitor's newest message: from the identity (a visitor who never wrote has
    /// none, and is answered without reading `messages`), then one step in `messages_visitor` (v41).
    static let visitorTicketSQL = """
        SELECT (SELECT ticket_id FROM messages WHERE channel = 'webchat' AND identity_id = i.id ORDER BY id DESC LIMIT 1)
        FROM identities i WHERE i.account = ? AND i.platform_user_id = ?
        """

    /// The visitor's messages that meet `condition` (on `id`): the identity (one per account and
    /// user id), then its messages in `messages_visitor`'s order (v41), or by id for a list of ids.
    static func visitorMessagesSQL(_ condition: String) -> String {
        """
        SELECT * FROM messages
        WHERE channel = 'webchat' AND identity_id = (SELECT id FROM identities WHERE account = ? AND platform_user_id = ?) AND \(condition)
        """
    }

    private static func visitorTicket(_ db: Database, account: String, visitorId: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: visitorTicketSQL, arguments: [account, visitorId])
    }

    private func read(account: String, visitorId: String, condition: String, _ arguments: StatementArguments) async throws -> [StoredMessage] {
        try await database.pool.read { db in
            var all: StatementArguments = [account, visitorId]
            _ = all.append(contentsOf: arguments)
            let rows = try Row.fetchAll(db, sql: Self.visitorMessagesSQL(condition), arguments: all)
            let ids = rows.map { $0["id"] as Int64 }
            guard !ids.isEmpty else { return [] }
            let attachments = try Dictionary(
                grouping: SQLiteTicketRows.attachments(db, where: "message_id IN (\(ids.map(String.init).joined(separator: ",")))", []),
                by: \.messageId)
            return try rows.map { try SQLiteTicketRows.message($0, attachments: attachments[$0["id"]] ?? []) }
        }
    }
}
