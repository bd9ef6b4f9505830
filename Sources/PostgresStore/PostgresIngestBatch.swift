import ChannelKit
import Logging
import PostgresNIO
import UniversalInbox

/// What an ingest group's first statements found, and the messages waiting to be inserted
/// together (`PostgresIngestWriter`). One statement a step and a message cost a round trip each
/// while the group holds `event_seq`'s lock, so ingest on PostgreSQL was bound by round trips
/// (eight a message); the group's messages now take a few statements in all:
/// - `prepare`: the group's known identities touched (inbound time, reply token, name) and their
///   contacts locked, in id order, in one statement; their ratings waiting for an answer and open
///   tickets in a second, after the locks, so it sees what the locks' last holders committed;
/// - `insert`: consecutive messages, their tickets' touch and channels in one statement, whose
///   triggers append the log entries in the messages' order.
/// These statements are prepared once per connection (`IngestStatements`).
/// The writer keeps `identities` and `routes` up to date as it opens, reopens and answers, so a
/// later message of the group sees what an earlier one did, as it would have read it.
struct PostgresIngestBatch {
    struct SenderKey: Hashable {
        var account: String
        var userId: String
    }

    /// A known identity the group touched, and its name as the writer has left it.
    struct KnownIdentity {
        var row: PostgresIngestWriter.IdentityRow
        var name: String?
    }

    /// A locked contact's rating request waiting for an answer and its current (not closed) ticket.
    struct Route {
        var rating: (ticketId: Int64, choices: String)?
        var ticket: (id: Int64, status: String)?
    }

    /// A customer message to insert; `touchesTicket` sets its ticket's `updated_at` and last
    /// identity (when the message did not open or reopen it).
    struct MessageRow {
        var ticketId: Int64
        var identityId: Int64
        var channel: String
        var account: String
        var content: String
        var text: String
        var platformMessageId: String
        var idempotencyKey: String
        var createdAt: Int64
        var touchesTicket: Bool
    }

    var identities: [SenderKey: KnownIdentity] = [:]
    var routes: [Int64: Route] = [:]
    /// Messages waiting for `insert`, and where each one's `messageReceived` is in the results.
    var pending: [MessageRow] = []
    var slots: [(webhook: Int, event: Int)] = []

    /// Touches the identities of the customer messages in `group` that `claimed` holds (each
    /// event once, as the writer will take them) and locks their contacts, then looks up those
    /// contacts' routes. A sender without an identity is left to the writer.
    mutating func prepare(_ group: [WebhookEvents], claimed: Set<PostgresIngestWriter.EventKey>, on connection: PostgresConnection, logger: Logger) async throws {
        var claimed = claimed
        var touch = IngestStatements.TouchIdentities()
        for webhook in group {
            for event in webhook.events where claimed.remove(.init(account: webhook.account.key, eventId: event.eventId)) != nil {
                guard event.kind == .message, let sender = event.sender, let message = event.message else { continue }
                touch.accounts.append(webhook.account.key)
                touch.users.append(sender.id)
                touch.times.append(event.occurredAt.ms)
                touch.tokens.append(message.replyToken ?? "")
                touch.hasToken.append(message.replyToken != nil)
                touch.names.append(sender.displayName ?? "")
                touch.hasName.append(sender.displayName != nil)
            }
        }
        guard !touch.accounts.isEmpty else { return }
        var contacts: [Int64] = []
        for row in try await connection.run(touch, logger: logger) {
            let (id, contactId, account, userId, name) = try row.decode((Int64, Int64, String, String, String?).self)
            identities[SenderKey(account: account, userId: userId)] = KnownIdentity(row: .init(id: id, contactId: contactId), name: name)
            contacts.append(contactId)
        }
        routes.merge(try await Self.routes(of: contacts, on: connection, logger: logger)) { $1 }
    }

    /// The routes of `contacts`, whose rows the caller has locked: each one's newest rating request
    /// waiting for an answer on a resolved or closed ticket, and its newest ticket not closed.
    static func routes(of contacts: [Int64], on connection: PostgresConnection, logger: Logger) async throws -> [Int64: Route] {
        guard !contacts.isEmpty else { return [:] }
        var routes = Dictionary(contacts.map { ($0, Route()) }) { first, _ in first }
        for row in try await connection.run(IngestStatements.Routes(contacts: contacts), logger: logger) {
            let (isRating, contactId, id, text) = try row.decode((Bool, Int64, Int64, String).self)
            if isRating { routes[contactId]?.rating = (id, text) } else { routes[contactId]?.ticket = (id, text) }
        }
        return routes
    }

    /// Inserts `messages` in order in one statement, with their tickets' touch (the last message's
    /// identity; no trigger fires on those columns) and channels; answers their ids in order.
    func insert(_ messages: [MessageRow], now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        var ids: [String: Int64] = [:]
        for row in try await connection.run(IngestStatements.InsertMessages(now: now, messages: messages), logger: logger) {
            let (id, key) = try row.decode((Int64, String).self)
            ids[key] = id
        }
        return try messages.map { message in
            guard let id = ids[message.idempotencyKey] else { throw PostgresIngestWriter.NoRowReturned() }
            return id
        }
    }
}
