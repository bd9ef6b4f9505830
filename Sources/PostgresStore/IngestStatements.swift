import PostgresNIO

/// The statements every ingest group runs (`PostgresIngestWriter.claim`, `PostgresIngestBatch`),
/// prepared once per connection. Arrays carry the group's rows; `unnest ... WITH ORDINALITY`
/// keeps their order.
enum IngestStatements {
    /// The group's dedupe rows, in one order every process uses; answers the keys inserted.
    struct Claim: PreparedStatement {
        static let sql = """
            INSERT INTO processed_events (account, event_id, received_at)
            SELECT DISTINCT k.account, k.event_id, $1::bigint FROM unnest($2::text[], $3::text[]) AS k (account, event_id)
            ORDER BY k.account, k.event_id
            ON CONFLICT (account, event_id) DO NOTHING
            RETURNING account, event_id
            """
        var now: Int64
        var accounts: [String]
        var eventIds: [String]

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(now)
            bindings.append(accounts)
            bindings.append(eventIds)
            return bindings
        }
    }

    /// `event_seq`'s row lock until the transaction ends (`PostgresConnection.lockEventLog`).
    struct LockEventLog: PreparedStatement {
        static let sql = "SELECT 1 FROM event_seq WHERE id = 1 FOR NO KEY UPDATE"

        func makeBindings() -> PostgresBindings { PostgresBindings() }
    }

    /// The known identities of the group's customer messages touched, as their messages in order
    /// would have left them (the latest inbound time, the last reply token given and when, the
    /// last name given), and their contacts locked in id order. Answers each identity's id,
    /// contact, account, platform user id and name before.
    struct TouchIdentities: PreparedStatement {
        static let sql = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::boolean[], $6::text[], $7::boolean[])
                    WITH ORDINALITY AS u (account, user_id, at, token, has_token, name, has_name, n)),
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
            """
        var accounts: [String] = []
        var users: [String] = []
        var times: [Int64] = []
        var tokens: [String] = []
        var hasToken: [Bool] = []
        var names: [String] = []
        var hasName: [Bool] = []

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 7)
            bindings.append(accounts)
            bindings.append(users)
            bindings.append(times)
            bindings.append(tokens)
            bindings.append(hasToken)
            bindings.append(names)
            bindings.append(hasName)
            return bindings
        }
    }

    /// A new customer, in one round trip instead of seven (look-up, contact, identity, profile job,
    /// inbound time, contact lock, routes): their contact, their identity (with the
    /// message's inbound time and reply token) and the profile look-up when the platform gave no
    /// name. Only for a sender without a phone number on an account that is not e-mail (those may
    /// belong to a contact that exists). Answers one row: the contact made, and the identity with
    /// its contact; the identity's are nulls when it exists (committed, or inserted by another
    /// transaction that committed while this one waited: the contact made, if any, is the caller's
    /// to remove). The ticket is opened by the next statement: the identity's log trigger would
    /// otherwise see it and log it as updated before it is logged as opened.
    struct FirstContact: PreparedStatement {
        static let sql = """
            WITH existing AS (
                SELECT 1 FROM identities WHERE account = $2 AND platform_user_id = $4),
            contact AS (
                INSERT INTO contacts (display_name, created_at, updated_at) SELECT $5, $1, $1 WHERE NOT EXISTS (SELECT 1 FROM existing)
                RETURNING id),
            identity AS (
                INSERT INTO identities (contact_id, account, channel, platform_user_id, display_name, created_at,
                    last_inbound_at, reply_token, reply_token_at)
                SELECT id, $2, $3, $4, $5, $1, $6, $7, CASE WHEN $7::text IS NULL THEN NULL ELSE $6::bigint END FROM contact
                ON CONFLICT (account, platform_user_id) DO NOTHING
                RETURNING id, contact_id),
            job AS (
                INSERT INTO jobs (kind, account, subject_id, next_attempt_at)
                SELECT 'profile', $2, id, $1 FROM identity WHERE $5::text IS NULL)
            SELECT (SELECT id FROM contact), (SELECT id FROM identity), (SELECT contact_id FROM identity)
            """
        var now: Int64
        var account: String
        var channel: String
        var userId: String
        var name: String?
        var inboundAt: Int64
        var replyToken: String?

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 7)
            bindings.append(now)
            bindings.append(account)
            bindings.append(channel)
            bindings.append(userId)
            bindings.append(name)
            bindings.append(inboundAt)
            bindings.append(replyToken)
            return bindings
        }
    }

    /// For each of `contacts` (locked by the caller): its newest rating request waiting for an
    /// answer on a resolved or closed ticket (`true`, ticket, choices) and its newest ticket not
    /// closed (`false`, ticket, status).
    struct Routes: PreparedStatement {
        static let sql = """
            (SELECT DISTINCT ON (r.contact_id) true, r.contact_id, r.ticket_id, r.choices FROM ratings r JOIN tickets t ON t.id = r.ticket_id
             WHERE r.contact_id = ANY($1::bigint[]) AND r.state = 'requested' AND r.rating IS NULL AND t.status IN ('resolved', 'closed')
             ORDER BY r.contact_id, r.requested_at DESC, r.ticket_id DESC)
            UNION ALL
            (SELECT DISTINCT ON (contact_id) false, contact_id, id, status FROM tickets
             WHERE contact_id = ANY($1::bigint[]) AND status <> 'closed' ORDER BY contact_id, id DESC)
            """
        var contacts: [Int64]

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(contacts)
            return bindings
        }
    }

    /// Customer messages inserted in order, with their tickets' touch (the last message's identity;
    /// no trigger fires on those columns) and channels; answers each message's id and key.
    struct InsertMessages: PreparedStatement {
        static let sql = """
            WITH input AS (
                SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                    $10::bigint[], $11::boolean[])
                    WITH ORDINALITY AS u (ticket_id, identity_id, channel, account, content, text, platform_message_id, idempotency_key, created_at, touch, n)),
            touched AS (
                UPDATE tickets t SET updated_at = $1::bigint, last_identity_id = l.identity_id
                FROM (SELECT DISTINCT ON (ticket_id) ticket_id, identity_id FROM input WHERE touch ORDER BY ticket_id, n DESC) l
                WHERE t.id = l.ticket_id),
            channels AS (
                INSERT INTO ticket_channels (ticket_id, channel) SELECT DISTINCT ticket_id, channel FROM input
                ON CONFLICT (ticket_id, channel) DO NOTHING)
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status,
                platform_message_id, idempotency_key, created_at, updated_at)
            SELECT ticket_id, identity_id, 'in', channel, account, content, text, 'received', platform_message_id, idempotency_key, created_at, $1::bigint
            FROM input ORDER BY n
            RETURNING id, idempotency_key
            """
        var now: Int64
        var messages: [PostgresIngestBatch.MessageRow]

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 11)
            bindings.append(now)
            bindings.append(messages.map(\.ticketId))
            bindings.append(messages.map(\.identityId))
            bindings.append(messages.map(\.channel))
            bindings.append(messages.map(\.account))
            bindings.append(messages.map(\.content))
            bindings.append(messages.map(\.text))
            bindings.append(messages.map(\.platformMessageId))
            bindings.append(messages.map(\.idempotencyKey))
            bindings.append(messages.map(\.createdAt))
            bindings.append(messages.map(\.touchesTicket))
            return bindings
        }
    }
}
