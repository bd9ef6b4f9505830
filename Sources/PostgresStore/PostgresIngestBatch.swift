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
        var accounts: [String] = [], users: [String] = [], times: [Int64] = []
        var tokens: [String] = [], hasToken: [Bool] = [], names: [String] = [], hasName: [Bool] = []
        for webhook in group {
            for event in webhook.events where claimed.remove(.init(account: webhook.account.key, eventId: event.eventId)) != nil {
                guard event.kind == .message, let sender = event.sender, let message = event.message else { continue }
                accounts.append(webhook.account.key)
                users.append(sender.id)
                times.append(event.occurredAt.ms)
                tokens.append(message.replyToken ?? "")
                hasToken.append(message.replyToken != nil)
                names.append(sender.displayName ?? "")
                hasName.append(sender.displayName != nil)
            }
        }
        guard !accounts.isEmpty else { return }
        // Per identity, what its messages in order would have left: the latest inbound time, the
        // last reply token given (and when), the last name given.
        let rows = try await connection.query("""
            WITH input AS (
                SELECT * FROM unnest(\(accounts)::text[], \(users)::text[], \(times)::bigint[], \(tokens)::text[], \(hasToken)::boolean[],
                    \(names)::text[], \(hasName)::boolean[]) WITH ORDINALITY AS u (account, user_id, at, token, has_token, name, has_name, n)),
            latest AS (
                SELECT account, user_id, max(at) AS at,
                    (array_agg(token ORDER BY n DESC) FILTER (WHERE has_token))[1] AS token,
                    (array_agg(at ORDER BY n DESC) FILTER (WHERE has_token))[1] AS token_at,
                    (array_agg(name ORDER BY n DESC) FILTER (WHERE has_name))[1] AS name
                FROM input GROUP BY account, user_id),
            touched AS (
                UPDATE identities i SET last_inbound_at = greatest(coalesce(i.last_inbound_at, 0), l.at),
                    reply_token = coalesce(l.token, i.reply_token),
                    reply_token_at = CASE WHEN l.token IS NULL THEN i.reply_token_at ELSE l.token_at END,
                    display_name = coalesce(l.name, i.display_name)
                FROM latest l, identities old
                WHERE i.account = l.account AND i.platform_user_id = l.user_id AND old.id = i.id
                RETURNING i.id, i.contact_id, i.account, i.platform_user_id, old.display_name AS previous_name)
            SELECT t.id, t.contact_id, t.account, t.platform_user_id, t.previous_name
            FROM touched t JOIN contacts c ON c.id = t.contact_id ORDER BY c.id FOR UPDATE OF c
            """, logger: logger)
        var contacts: [Int64] = []
        for try await (id, contactId, account, userId, name) in rows.decode((Int64, Int64, String, String, String?).self) {
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
        let rows = try await connection.query("""
            (SELECT DISTINCT ON (r.contact_id) true, r.contact_id, r.ticket_id, r.choices FROM ratings r JOIN tickets t ON t.id = r.ticket_id
             WHERE r.contact_id = ANY(\(contacts)) AND r.state = 'requested' AND r.rating IS NULL AND t.status IN ('resolved', 'closed')
             ORDER BY r.contact_id, r.requested_at DESC)
            UNION ALL
            (SELECT DISTINCT ON (contact_id) false, contact_id, id, status FROM tickets
             WHERE contact_id = ANY(\(contacts)) AND status <> 'closed' ORDER BY contact_id, id DESC)
            """, logger: logger)
        for try await (isRating, contactId, id, text) in rows.decode((Bool, Int64, Int64, String).self) {
            if isRating { routes[contactId]?.rating = (id, text) } else { routes[contactId]?.ticket = (id, text) }
        }
        return routes
    }

    /// Inserts `messages` in order in one statement, with their tickets' touch (the last message's
    /// identity; no trigger fires on those columns) and channels; answers their ids in order.
    func insert(_ messages: [MessageRow], now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        let rows = try await connection.query("""
            WITH input AS (
                SELECT * FROM unnest(\(messages.map(\.ticketId))::bigint[], \(messages.map(\.identityId))::bigint[], \(messages.map(\.channel))::text[],
                    \(messages.map(\.account))::text[], \(messages.map(\.content))::text[], \(messages.map(\.text))::text[],
                    \(messages.map(\.platformMessageId))::text[], \(messages.map(\.idempotencyKey))::text[], \(messages.map(\.createdAt))::bigint[],
                    \(messages.map(\.touchesTicket))::boolean[])
                    WITH ORDINALITY AS u (ticket_id, identity_id, channel, account, content, text, platform_message_id, idempotency_key, created_at, touch, n)),
            touched AS (
                UPDATE tickets t SET updated_at = \(now), last_identity_id = l.identity_id
                FROM (SELECT DISTINCT ON (ticket_id) ticket_id, identity_id FROM input WHERE touch ORDER BY ticket_id, n DESC) l
                WHERE t.id = l.ticket_id),
            channels AS (
                INSERT INTO ticket_channels (ticket_id, channel) SELECT DISTINCT ticket_id, channel FROM input
                ON CONFLICT (ticket_id, channel) DO NOTHING)
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status,
                platform_message_id, idempotency_key, created_at, updated_at)
            SELECT ticket_id, identity_id, 'in', channel, account, content, text, 'received', platform_message_id, idempotency_key, created_at, \(now)
            FROM input ORDER BY n
            RETURNING id, idempotency_key
            """, logger: logger)
        var ids: [String: Int64] = [:]
        for try await (id, key) in rows.decode((Int64, String).self) { ids[key] = id }
        return try messages.map { message in
            guard let id = ids[message.idempotencyKey] else { throw PostgresIngestWriter.NoRowReturned() }
            return id
        }
    }
}
