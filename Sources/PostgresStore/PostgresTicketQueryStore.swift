import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `TicketQueryStore` on PostgreSQL. Full text is `ILIKE '%…%'` served by the `pg_trgm` GIN
/// indexes on `messages.text` and `contacts.display_name` (Schema/QueueTables.swift `search`),
/// which PostgreSQL keeps in the writing transaction: there is no indexer cursor, and
/// `indexNewMessages` does nothing and returns 0.
///
/// Words of one or two characters (e.g. 遅 or 配送) have no trigram, so an index cannot find them.
/// As on SQLite they do not go to `search`: the newest-first list walks the tickets in their index
/// order and looks in each candidate ticket's messages (`strpos(lower(text), lower(word))`, over the
/// `messages_ticket` index), stopping after a page. The deadline is the same `SearchLimits.timeout`:
/// each list read runs in one READ ONLY REPEATABLE READ transaction, and every statement in it
/// gets `SET LOCAL statement_timeout` to what is left of the deadline; a statement the server
/// cancels for it (SQLSTATE 57014) surfaces as `SearchTooCostly`, as on SQLite.
public struct PostgresTicketQueryStore: TicketQueryStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Newest first, walking the tickets in an index's order and stopping after a page. A channel
    /// together with other filters (status, department...) is checked on the newest 20 pages of
    /// the other filters' tickets first; when that finds less than a page, the channel's tickets
    /// are taken as a set (one read of `ticket_channels_channel`) and hashed. The planner cannot see
    /// that a channel and a status (columns of two tables) go together or never do, so it always
    /// chose to walk and probe `ticket_channels` per ticket: "pending & line", which no ticket is,
    /// probed it for each of the 12,500 pending tickets (37,500 buffers); the set costs 240. (With
    /// words to look for, the list walks and probes as before: the words cost more than the channel.)
    public func newest(
        _ filter: TicketFilter, containing words: [String], after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage {
        /// The filter without its channel, the words and the cursor: the tickets the list walks.
        func walked(_ sql: inout SQL) throws -> [String] {
            var others = filter
            others.channel = nil
            var conditions = try sql.conditions(others)
            for word in words {
                conditions.append("EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND strpos(lower(m.text), lower(\(try sql.bind(word)))) > 0)")
            }
            if case .newest(let updatedAt, let id) = after {
                conditions.append("(t.updated_at, t.id) < (\(try sql.bind(updatedAt)), \(try sql.bind(id)))")
            }
            return conditions
        }
        func list(channelAsSet: Bool) throws -> PostgresQuery {
            var sql = SQL()
            var conditions = try walked(&sql)
            if let channel = filter.channel {
                let value = try sql.bind(channel)
                if channelAsSet {
                    // OFFSET 0 keeps the subquery whole: the planner cannot probe it per ticket, so it
                    // reads the channel's tickets once and hashes or merges them.
                    conditions.append("t.id IN (SELECT ticket_id FROM ticket_channels WHERE channel = \(value) OFFSET 0)")
                } else {
                    conditions.append("EXISTS (SELECT 1 FROM ticket_channels tc WHERE tc.ticket_id = t.id AND tc.channel = \(value))")
                }
            }
            return PostgresQuery(unsafeSQL: """
                SELECT t.id FROM tickets t\(SQL.join(filter))
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY t.updated_at DESC, t.id DESC LIMIT \(limit + 1)
                """, binds: sql.binds)
        }
        /// The channel's check on only the newest `Self.channelWalk(limit)` walked tickets: how many
        /// there were, and the matches among them in list order (at most a page and one).
        func channelOnNewest(_ channel: String) throws -> PostgresQuery {
            var sql = SQL()
            let conditions = try walked(&sql)
            return PostgresQuery(unsafeSQL: """
                WITH walked AS MATERIALIZED (
                    SELECT t.id, t.updated_at FROM tickets t\(SQL.join(filter)) WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY t.updated_at DESC, t.id DESC LIMIT \(Self.channelWalk(limit)))
                SELECT (SELECT count(*) FROM walked), ARRAY(
                    SELECT w.id FROM walked w WHERE EXISTS (SELECT 1 FROM ticket_channels tc WHERE tc.ticket_id = w.id AND tc.channel = \(try sql.bind(channel)))
                    ORDER BY w.updated_at DESC, w.id DESC LIMIT \(limit + 1))
                """, binds: sql.binds)
        }
        var others = filter
        others.channel = nil
        let narrowed = others != TicketFilter()
        return try await read(limits) { read in
            var ids: [Int64]
            if let channel = filter.channel, words.isEmpty, narrowed {
                var walkedCount: Int64 = 0
                ids = []
                for try await (count, found) in try await read.query(channelOnNewest(channel)).decode((Int64, [Int64]).self) {
                    (walkedCount, ids) = (count, found)
                }
                if ids.count <= limit && walkedCount == Int64(Self.channelWalk(limit)) {
                    ids = try await read.ids(list(channelAsSet: true))
                }
            } else {
                ids = try await read.ids(list(channelAsSet: false))
            }
            let items = try await read.summaries(Array(ids.prefix(limit)), reader: reader)
            let next = ids.count > limit ? items.last.map { TicketListPosition.newest(updatedAt: $0.updatedAt.ms, id: $0.id) } : nil
            return TicketListPage(items: items, next: next)
        }
    }

    /// How many of the newest tickets a channel list with other filters checks one by one before it
    /// takes the channel's tickets as a set (`newest`): a channel on at least one in twenty of them
    /// fills a page there.
    static func channelWalk(_ limit: Int) -> Int { 20 * (limit + 1) }

    /// The waiting tickets oldest first, then the answered ones newest activity first (indexes
    /// `tickets_waiting` and `tickets_answered`), as on SQLite.
    public func longestWaiting(
        _ filter: TicketFilter, after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage {
        func query(_ extra: (inout SQL) throws -> [String], order: String, limit: Int) throws -> PostgresQuery {
            var sql = SQL()
            let conditions = try sql.conditions(filter) + extra(&sql)
            return PostgresQuery(unsafeSQL: """
                SELECT t.id, t.waiting_since, t.updated_at FROM tickets t\(SQL.join(filter))
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT \(limit)
                """, binds: sql.binds)
        }
        let waitingOrder = "t.waiting_since, t.id"
        let waiting: PostgresQuery? =
            switch after {
            case nil, .newest, .match: try query({ _ in ["t.waiting_since IS NOT NULL"] }, order: waitingOrder, limit: limit + 1)
            case .waiting(let since, let id):
                try query({ sql in
                    ["t.waiting_since IS NOT NULL", "(t.waiting_since, t.id) > (\(try sql.bind(since)), \(try sql.bind(id)))"]
                }, order: waitingOrder, limit: limit + 1)
            case .answered: nil
            }
        return try await read(limits) { read in
            var rows: [(id: Int64, since: Int64?, updatedAt: Int64)] = []
            if let waiting {
                for try await row in try await read.query(waiting).decode((Int64, Int64?, Int64).self) { rows.append(row) }
            }
            if rows.count <= limit {
                let answered = try query({ sql in
                    guard case .answered(let updatedAt, let id) = after else { return ["t.waiting_since IS NULL"] }
                    return ["t.waiting_since IS NULL", "(t.updated_at, t.id) < (\(try sql.bind(updatedAt)), \(try sql.bind(id)))"]
                }, order: "t.updated_at DESC, t.id DESC", limit: limit + 1 - rows.count)
                for try await row in try await read.query(answered).decode((Int64, Int64?, Int64).self) { rows.append(row) }
            }
            let page = rows.prefix(limit)
            let items = try await read.summaries(page.map(\.id), reader: reader)
            var next: TicketListPosition?
            if rows.count > limit, let last = page.last {
                next = last.since.map { .waiting(since: $0, id: last.id) } ?? .answered(updatedAt: last.updatedAt, id: last.id)
            }
            return TicketListPage(items: items, next: next)
        }
    }

    /// Stops after a page, as SQLite's search does: matching messages are read newest first in
    /// windows of message ids (`ILIKE`, each term a pattern, through the trigram index or the
    /// primary key, whichever the planner finds cheaper for the window), each message's ticket is
    /// checked against the filters once, and reading stops at `limit + 1` tickets. A window that
    /// yields less than a page doubles the next, so a rare word takes a few windows, not one per
    /// few thousand messages. After a cursor, a ticket with a match at or after it was listed already.
    /// (Grouping every match by ticket in one statement read every match of a common word: 600 ms
    /// for "refund" at 1,000,000 messages.)
    public func search(
        _ filter: TicketFilter, terms: [String], after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage {
        let before: Int64? = if case .match(let messageId) = after { messageId } else { nil }
        let patterns = terms.map { "%" + Self.escapeLike($0) + "%" }
        func matching(_ sql: inout SQL) throws -> String {
            try patterns.map { "m.text ILIKE \(try sql.bind($0))" }.joined(separator: " AND ")
        }
        func window(below top: Int64, from bottom: Int64) throws -> PostgresQuery {
            var sql = SQL()
            let text = "SELECT m.id, m.ticket_id FROM messages m WHERE m.id < \(try sql.bind(top)) AND m.id >= \(try sql.bind(bottom)) AND \(try matching(&sql)) ORDER BY m.id DESC"
            return PostgresQuery(unsafeSQL: text, binds: sql.binds)
        }
        func listable(_ tickets: [Int64]) throws -> PostgresQuery {
            var sql = SQL()
            var conditions = try sql.conditions(filter)
            conditions.append("t.id = ANY(\(try sql.bind(tickets)))")
            if let before {
                conditions.append("NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND m.id >= \(try sql.bind(before)) AND \(try matching(&sql)))")
            }
            let text = "SELECT t.id FROM tickets t\(SQL.join(filter)) WHERE \(conditions.joined(separator: " AND "))"
            return PostgresQuery(unsafeSQL: text, binds: sql.binds)
        }
        return try await read(limits) { read in
            var top = before ?? 0
            if before == nil {
                for try await newest in try await read.query("SELECT coalesce(max(id), 0) + 1 FROM messages").decode(Int64.self) { top = newest }
            }
            var size: Int64 = 5_000
            var seen = Set<Int64>()
            var found: [(id: Int64, hit: Int64)] = []
            while top > 1, found.count <= limit {
                let bottom = max(1, top - size)
                var candidates: [(id: Int64, hit: Int64)] = []
                for try await (message, ticket) in try await read.query(window(below: top, from: bottom)).decode((Int64, Int64).self)
                where seen.insert(ticket).inserted {
                    candidates.append((ticket, message))
                }
                if !candidates.isEmpty {
                    let accepted = Set(try await read.ids(listable(candidates.map(\.id))))
                    found += candidates.filter { accepted.contains($0.id) }
                }
                if candidates.count <= limit { size *= 2 }
                top = bottom
            }
            let page = found.prefix(limit)
            let items = try await read.summaries(page.map(\.id), reader: reader)
            return TicketListPage(items: items, next: found.count > limit ? page.last.map { .match(messageId: $0.hit) } : nil)
        }
    }

    public func count(_ filters: [String: TicketFilter]) async throws -> [String: Int] {
        let queries = try filters.map { key, filter in
            var sql = SQL()
            let conditions = try sql.conditions(filter, counting: true)
            let text = "SELECT count(*) FROM tickets t\(SQL.join(filter))" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            return (key: key, query: PostgresQuery(unsafeSQL: text, binds: sql.binds))
        }
        return try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var counts: [String: Int] = [:]
            for (key, query) in queries {
                for try await count in try await connection.query(query, logger: logger).decode(Int64.self) { counts[key] = Int(count) }
            }
            return counts
        }
    }

    /// Nothing to do: the trigram indexes are kept in the transaction that writes a message.
    public func indexNewMessages(limit: Int) async throws -> Int { 0 }

    /// `body` in one READ ONLY REPEATABLE READ transaction under `limits`' deadline (see the type's
    /// comment); a statement cancelled for it is `SearchTooCostly`.
    private func read<Result: Sendable>(_ limits: SearchLimits, _ body: (DeadlineRead) async throws -> Result) async throws -> Result {
        let end = limits.now() + limits.timeout
        do {
            return try await transaction { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                return try await body(DeadlineRead(connection: connection, logger: logger, limits: limits, end: end))
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.queryCanceled.raw {
            throw SearchTooCostly(timeout: limits.timeout)
        }
    }

    /// `body` in a transaction; its own error is rethrown as it is, not wrapped.
    private func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> sending Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    /// `ILIKE`'s wildcards and its escape character taken literally.
    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

/// Statements of one list read, each under what is left of the deadline.
private struct DeadlineRead {
    let connection: PostgresConnection
    let logger: Logger
    let limits: SearchLimits
    let end: ContinuousClock.Instant

    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        let left = end - limits.now()
        guard left > .zero else { throw SearchTooCostly(timeout: limits.timeout) }
        let (seconds, attoseconds) = left.components
        // At least 1 ms: 0 would switch the timeout off.
        let ms = max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL statement_timeout = \(ms)"), logger: logger)
        return try await connection.query(query, logger: logger)
    }

    func ids(_ query: PostgresQuery) async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await self.query(query).decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// The tickets `ids` as a list shows them, in that order, in one statement. Channels come in the
    /// order of their first message (SQLite keeps the order they were added in, the same for
    /// messages filed in order); tags in byte order, as SQLite's `ORDER BY tag`.
    func summaries(_ ids: [Int64], reader: Int64?) async throws -> [TicketSummary] {
        guard !ids.isEmpty else { return [] }
        var sql = SQL()
        let idList = try sql.bind(ids)
        let readerBind = try sql.bind(reader)
        let rows = try await query(PostgresQuery(unsafeSQL: """
            SELECT t.id, t.status, t.contact_id, c.display_name, t.created_at, t.updated_at, t.resolved_at, t.assignee, t.agent_id,
                t.department_id, t.priority, t.resolution_reason, t.merged_into, t.queued_at, t.waiting_since,
                coalesce(l.id, 0), l.direction, l.text, l.created_at,
                ARRAY(SELECT tc.channel FROM ticket_channels tc WHERE tc.ticket_id = t.id
                      ORDER BY (SELECT min(m.id) FROM messages m WHERE m.ticket_id = t.id AND m.channel = tc.channel) NULLS LAST, tc.channel),
                ARRAY(SELECT tag FROM ticket_tags WHERE ticket_id = t.id ORDER BY tag COLLATE "C"),
                ARRAY(SELECT f.key FROM ticket_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.ticket_id = t.id ORDER BY f.key),
                ARRAY(SELECT v.value FROM ticket_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.ticket_id = t.id ORDER BY f.key),
                CASE WHEN \(readerBind)::bigint IS NULL THEN NULL ELSE EXISTS (
                    SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'in'
                        AND m.id > coalesce((SELECT r.last_message_id FROM ticket_reads r WHERE r.ticket_id = t.id AND r.agent_id = \(readerBind)::bigint), 0))
                END
            FROM tickets t JOIN contacts c ON c.id = t.contact_id
            LEFT JOIN LATERAL (SELECT m.id, m.direction, m.text, m.created_at FROM messages m WHERE m.ticket_id = t.id ORDER BY m.id DESC LIMIT 1) l ON true
            WHERE t.id = ANY(\(idList))
            """, binds: sql.binds))
        var byId: [Int64: TicketSummary] = [:]
        for try await row in rows {
            let r = row.makeRandomAccess()
            let id = try r[0].decode(Int64.self)
            let lastId = try r[15].decode(Int64.self)
            let keys = try r[21].decode([String].self)
            let values = try r[22].decode([String].self)
            byId[id] = TicketSummary(
                id: id, status: try UnknownStoredValue.decode(r[1].decode(String.self), as: TicketStatus.self, column: "status"),
                contact: ContactSummary(id: try r[2].decode(Int64.self), displayName: try r[3].decode(String?.self)),
                channels: try r[19].decode([String].self),
                createdAt: Date(ms: try r[4].decode(Int64.self)), updatedAt: Date(ms: try r[5].decode(Int64.self)),
                resolvedAt: try r[6].decode(Int64?.self).map { Date(ms: $0) }, assignee: try r[7].decode(String?.self),
                agentId: try r[8].decode(Int64?.self), departmentId: try r[9].decode(Int64?.self),
                priority: try UnknownStoredValue.decode(r[10].decode(String.self), as: TicketPriority.self, column: "priority"),
                tags: try r[20].decode([String].self),
                resolutionReason: try r[11].decode(String?.self).map {
                    try UnknownStoredValue.decode($0, as: ResolutionReason.self, column: "resolution_reason")
                },
                mergedInto: try r[12].decode(Int64?.self), queuedAt: try r[13].decode(Int64?.self).map { Date(ms: $0) },
                version: lastId, unread: try r[23].decode(Bool?.self),
                fields: Dictionary(zip(keys, values), uniquingKeysWith: { first, _ in first }),
                lastMessage: lastId == 0
                    ? nil
                    : TicketSummary.LastMessage(
                        direction: try r[16].decode(String.self), text: try r[17].decode(String.self), createdAt: Date(ms: try r[18].decode(Int64.self))),
                waitingSince: try r[14].decode(Int64?.self).map { Date(ms: $0) })
        }
        return ids.compactMap { byId[$0] }
    }
}

/// A statement's text and binds built together: `bind` appends a value and returns its `$n`.
private struct SQL {
    var binds = PostgresBindings()

    mutating func bind<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value) throws -> String {
        try binds.append(value)
        return "$\(binds.count)"
    }

    mutating func bind<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value?) throws -> String {
        try binds.append(value)
        return "$\(binds.count)"
    }

    /// `JOIN contacts c` when the filter reads the contact's row (a contact of one or two
    /// characters), else nothing: `tickets.contact_id` is a NOT NULL foreign key, so the join
    /// never drops a ticket, and without it a list does not look up a contact per ticket it walks.
    static func join(_ filter: TicketFilter) -> String {
        if let contact = filter.contact, contact.count < 3 { " JOIN contacts c ON c.id = t.contact_id" } else { "" }
    }

    /// The filter as SQL over `tickets t` (and `contacts c` when `join(filter)` adds it), the twin of
    /// SQLite's (`SQLiteTicketQueryStore.conditions`). A contact of 3+ characters is found in names
    /// through the trigram index (`ILIKE`), a shorter one by a scan of the candidates' names.
    ///
    /// The contact's ways to match (name, channel user id, phone, e-mail, id) are one set of
    /// contact ids (`UNION ALL`), which PostgreSQL reads first and joins to `tickets_contact`: as
    /// an OR of four `IN`s it walked the newest-first index with hashed subplans instead, and
    /// "Sato 12" read 87,000 tickets to find a page (1,500 buffers through the contact index now).
    mutating func conditions(_ filter: TicketFilter, counting: Bool = false) throws -> [String] {
        var conditions: [String] = []
        if let status = filter.status { conditions.append("t.status = \(try bind(status.rawValue))") }
        if filter.activeOnly { conditions.append("t.status IN ('new', 'open', 'pending')") }
        if let channel = filter.channel {
            let value = try bind(channel)
            conditions.append(counting
                ? "t.id IN (SELECT ticket_id FROM ticket_channels WHERE channel = \(value))"
                : "EXISTS (SELECT 1 FROM ticket_channels tc WHERE tc.ticket_id = t.id AND tc.channel = \(value))")
        }
        if let contact = filter.contact {
            let (text, digits) = (try bind(contact), try bind(contact.filter(\.isNumber)))
            var contacts = [
                "SELECT contact_id FROM identities WHERE platform_user_id = \(text)",
                "SELECT contact_id FROM identities WHERE \(digits) != '' AND phone = \(digits)",
                "SELECT id FROM contacts WHERE lower(email) = lower(\(text))",
                "SELECT \(try bind(Int64(contact) ?? -1))::bigint",
            ]
            if contact.count >= 3 {
                contacts.insert("SELECT id FROM contacts WHERE display_name ILIKE \(try bind("%" + PostgresTicketQueryStore.escapeLike(contact) + "%"))", at: 0)
                conditions.append("t.contact_id IN (\(contacts.joined(separator: " UNION ALL ")))")
            } else {
                conditions.append("(strpos(lower(coalesce(c.display_name, '')), lower(\(text))) > 0 OR t.contact_id IN (\(contacts.joined(separator: " UNION ALL "))))")
            }
        }
        if let agentId = filter.agentId { conditions.append("t.agent_id = \(try bind(agentId))") }
        if filter.unassigned { conditions.append("t.agent_id IS NULL AND t.assignee IS NULL") }
        if let departmentId = filter.departmentId { conditions.append("t.department_id = \(try bind(departmentId))") }
        if let tag = filter.tag { conditions.append("t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = \(try bind(tag)))") }
        if let priority = filter.priority { conditions.append("t.priority = \(try bind(priority.rawValue))") }
        for (key, value) in filter.ticketFields.sorted(by: { $0.key < $1.key }) {
            conditions.append("""
                t.id IN (SELECT ticket_id FROM ticket_fields WHERE value = \(try bind(value))
                         AND field_id = (SELECT id FROM custom_fields WHERE scope = 'ticket' AND key = \(try bind(key))))
                """)
        }
        for (key, value) in filter.contactFields.sorted(by: { $0.key < $1.key }) {
            conditions.append("""
                t.contact_id IN (SELECT contact_id FROM contact_fields WHERE value = \(try bind(value))
                                 AND field_id = (SELECT id FROM custom_fields WHERE scope = 'contact' AND key = \(try bind(key))))
                """)
        }
        if let from = filter.createdFrom { conditions.append("t.created_at >= \(try bind(from.ms))") }
        if let before = filter.createdBefore { conditions.append("t.created_at < \(try bind(before.ms))") }
        if let visibility = filter.visibility {
            conditions.append("(t.agent_id = \(try bind(visibility.agentId ?? -1)) OR t.department_id = ANY(\(try bind(visibility.departments))))")
        }
        return conditions
    }
}

// One ticket (`TicketQueryStore.ticket`): here, beside the lists' summary statement it reuses; the
// conversation's reads are in PostgresTicketReads.swift.
extension PostgresTicketQueryStore {
    /// The lists' summary of one ticket, under the lists' default deadline (one ticket takes far less).
    public func ticket(id: Int64, reader: Int64?) async throws -> TicketSummary? {
        try await read(SearchLimits()) { read in try await read.summaries([id], reader: reader).first }
    }
}
