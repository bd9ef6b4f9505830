import BenchmarkSupport
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import UniversalInbox

/// The benchmark on PostgreSQL (`run --database postgres://…`): the same inbox as `Generator`
/// (same contacts, tickets, tags, channels and message texts, ids in the same order), written in
/// plain SQL with `generate_series` on the server, and the same list and search queries through
/// `PostgresTicketQueryStore`. The trigram index on messages is built after the messages are in,
/// as a restore would, and the triggers are off during the bulk load (`waiting_since` is filled after).
enum PostgresInbox {
    /// `postgres://user:password@host:port/database` (TCP, no TLS: a local throwaway server).
    static func settings(_ url: String) throws -> PostgresSettings {
        guard let parts = URLComponents(string: url), parts.scheme == "postgres" || parts.scheme == "postgresql", let host = parts.host,
            let user = parts.user
        else { throw BenchmarkError("--database: expected postgres://user:password@host:port/database") }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        return PostgresSettings(
            endpoint: .tcp(host: host, port: parts.port ?? 5432), username: user, password: parts.password?.removingPercentEncoding,
            database: database.isEmpty ? user : database, sslMode: .disable)
    }

    /// Runs `body` with a client on the migrated database at `url`.
    static func with(_ url: String, _ body: (PostgresClient, Logger) async throws -> Void) async throws {
        var logger = Logger(label: "inbox-benchmark")
        logger.logLevel = .warning
        let settings = try settings(url)
        _ = try await PostgresMigrator.migrate(settings, logger: logger)
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client, logger)
        }
    }

    static func literal(_ values: [String]) -> String {
        "ARRAY[" + values.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ") + "]"
    }

    /// Fills an empty database as `Generator.fill` fills SQLite (without the long ticket).
    static func fill(_ client: PostgresClient, logger: Logger, tickets: Int, messagesPerTicket: Int) async throws {
        let count = try await client.query("SELECT count(*) FROM tickets", logger: logger).collect().first?.decode(Int64.self) ?? 0
        guard count == 0 else { throw BenchmarkError("the benchmark's database holds tickets already") }
        let base: Int64 = 1_700_000_000_000
        let g = Generator.self
        let row = """
            SELECT i, (\(literal(g.channels)))[i % \(g.channels.count) + 1] AS kind, \(base) + i::bigint * 60000 AS created,
                (CASE i % 3 WHEN 0 THEN 'Kenji Sato ' WHEN 1 THEN 'Ana Souza ' ELSE 'Lena Vogel ' END) || i AS name,
                CASE WHEN i % 4 = 3 THEN NULL ELSE i % \(g.agents) + 1 END AS agent
            FROM generate_series(0, \(tickets - 1)) i
            """
        let statements = [
            "INSERT INTO departments (id, name, created_at) SELECT d, 'Dept ' || d, \(base) FROM generate_series(1, 4) d",
            """
            INSERT INTO agents (id, email, name, role, max_tickets, availability, created_at, updated_at)
            SELECT a, 'agent' || a || '@example.com', 'Agent ' || a, 'agent', 50, 'online', \(base), \(base) FROM generate_series(1, \(g.agents)) a
            """,
            "INSERT INTO department_members (department_id, agent_id) SELECT (a - 1) % 4 + 1, a FROM generate_series(1, \(g.agents)) a",
            "INSERT INTO contacts (id, display_name, created_at, updated_at) SELECT i + 1, name, created, created FROM (\(row)) r",
            """
            INSERT INTO identities (id, contact_id, account, channel, platform_user_id, display_name, phone, last_inbound_at, created_at)
            SELECT i + 1, i + 1, kind || '/main', kind, 'user-' || i, name, CASE WHEN kind IN ('sms', 'whatsapp') THEN '1555' || i END, created, created
            FROM (\(row)) r
            """,
            """
            INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at, resolved_at, agent_id, department_id, priority)
            SELECT i + 1, i + 1, status, i + 1, created, updated, CASE WHEN status = 'resolved' THEN updated END, agent,
                coalesce((agent - 1) % 4 + 1, i % 4 + 1), (\(literal(g.priorities)))[i % \(g.priorities.count) + 1]
            FROM (SELECT r.*, (\(literal(g.statuses)))[(i * 7) % \(g.statuses.count) + 1] AS status,
                         created + \(messagesPerTicket * 30_000) AS updated FROM (\(row)) r) s
            """,
            "INSERT INTO ticket_tags (ticket_id, tag) SELECT i + 1, (\(literal(g.tags)))[(i / 10) % \(g.tags.count) + 1] FROM generate_series(0, \(tickets - 1), 10) i",
            "INSERT INTO ticket_channels (ticket_id, channel) SELECT i + 1, kind FROM (\(row)) r",
            "DROP INDEX messages_text_trgm",
            // Triggers off for the bulk load (the server's owner may): per message they keep
            // `waiting_since` and the event log, which made seeding take minutes per 10,000
            // tickets. `waiting_since` is filled after, by its own definition.
            "SET session_replication_role = replica",
            """
            INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
            SELECT i * \(messagesPerTicket) + m + 1, i + 1, i + 1, CASE WHEN m % 2 = 0 THEN 'in' ELSE 'out' END, kind, kind || '/main',
                '{"kind":"text","text":"' || text || '"}', text, CASE WHEN m % 2 = 0 THEN 'received' ELSE 'delivered' END, 'k' || i || '-' || m,
                created + m * 30000, created + m * 30000
            FROM (SELECT r.i, r.kind, r.created, m.m,
                         replace(CASE WHEN r.kind IN ('line', 'wechat') AND m.m % 2 = 0
                                      THEN (\(literal(g.japanese)))[(r.i + m.m) % \(g.japanese.count) + 1]
                                      ELSE (\(literal(g.english)))[(r.i * 3 + m.m) % \(g.english.count) + 1] END, '%d', (r.i % 10000)::text) AS text
                  FROM (\(row)) r CROSS JOIN generate_series(0, \(messagesPerTicket - 1)) m(m)) s
            ORDER BY i, m
            """,
            "UPDATE tickets SET waiting_since = waiting_since(id)",
            "SET session_replication_role = DEFAULT",
            "CREATE INDEX messages_text_trgm ON messages USING gin (text gin_trgm_ops)",
            "ANALYZE",
        ]
        try await client.withConnection { connection in
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    /// `query` as `Inbox.listTickets` hands it to the store (terms of 3+ characters search, shorter
    /// ones are scanned for), on `store`; returns where the page ends.
    @discardableResult
    static func list(_ store: PostgresTicketQueryStore, _ query: TicketQuery, after: TicketListPosition? = nil) async throws -> TicketListPosition? {
        let terms = query.text?.split(whereSeparator: \.isWhitespace).map(String.init) ?? []
        var filter = TicketFilter()
        filter.status = query.status
        filter.channel = query.channel
        filter.contact = query.contact
        filter.agentId = query.agentId
        filter.unassigned = query.unassigned
        filter.departmentId = query.departmentId
        filter.tag = query.tag
        filter.priority = query.priority
        if let actor = query.actor, actor.departmentsOnly { filter.visibility = TicketVisibility(agentId: actor.agentId, departments: actor.departments) }
        let limit = query.limit
        if !terms.isEmpty, terms.allSatisfy({ $0.count >= 3 }) {
            return try await store.search(filter, terms: terms, after: after, limit: limit, reader: nil, limits: SearchLimits()).next
        }
        return try await store.newest(filter, containing: terms, after: after, limit: limit, reader: nil, limits: SearchLimits()).next
    }
}

