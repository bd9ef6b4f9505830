import Foundation
import GRDB

/// Where the ticket lists, their counts and full-text search read from. One implementation per
/// database (`SQLiteTicketQueryStore` below, `PostgresTicketQueryStore` in PostgresStore), held to
/// one contract (Tests/StoreTests). What a query may ask for (`SearchLimits`, `invalid_sort`,
/// tags), what a caller may see (`TicketVisibility`) and the cursors' text are the domain's
/// (`Inbox.listTickets`, `Inbox.countTickets`); the store gets a checked filter and a decoded
/// position and answers one page.
public protocol TicketQueryStore: VisitorConversationStore {
    /// Tickets matching `filter`, newest activity first (`updated_at`, then id), after `.newest`.
    /// Each of `words` must appear in one of the ticket's messages, case-insensitively: words too
    /// short for the trigram index, read by a scan of each candidate ticket's messages.
    func newest(
        _ filter: TicketFilter, containing words: [String], after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage

    /// Tickets matching `filter`, longest waiting first: the waiting ones oldest `waiting_since`
    /// first, then the answered ones newest activity first; after `.waiting` or `.answered`.
    func longestWaiting(
        _ filter: TicketFilter, after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage

    /// Tickets matching `filter` with a message holding every term (3+ characters each), ordered by
    /// their newest matching message, newest first. After `.match(messageId:)` (the last listed
    /// ticket's newest match), a ticket with a match at or after that message is left out: it was
    /// listed already.
    func search(
        _ filter: TicketFilter, terms: [String], after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage

    /// How many tickets each filter matches, all read in one snapshot.
    func count(_ filters: [String: TicketFilter]) async throws -> [String: Int]

    /// Adds up to `limit` messages committed since the last call to the full-text index and returns
    /// how many (0 where the database indexes in the writing transaction).
    func indexNewMessages(limit: Int) async throws -> Int

    // One ticket and its conversation (SQLite: SQLiteTicketReads.swift; PostgreSQL: PostgresTicketReads.swift).

    /// A ticket as a list shows it; `reader` (an agent id) fills `unread`.
    func ticket(id: Int64, reader: Int64?) async throws -> TicketSummary?

    /// A contact's tickets, newest first, without those merged into another (their messages moved).
    func tickets(ofContact contactId: Int64) async throws -> [Int64]

    /// A ticket's messages with their attachments in conversation order (created, then id), or nil
    /// if there is no such ticket.
    func messages(ticketId: Int64) async throws -> [StoredMessage]?

    /// Up to `limit` messages of a ticket that come before message `before` in conversation order,
    /// or the newest ones without `before`; nil if there is no such ticket. A `before` that is not a
    /// message of the ticket is `unprocessable` (`invalid_before`).
    func messagePage(ticketId: Int64, before: Int64?, limit: Int) async throws -> MessagePage?

    func message(id: Int64) async throws -> StoredMessage?

    func attachment(id: Int64) async throws -> AttachmentInfo?
}

/// A ticket list's filters other than words and position, checked by the domain (`Inbox.listTickets`).
public struct TicketFilter: Sendable, Equatable {
    public var status: TicketStatus?
    /// Only new, open or pending tickets.
    public var activeOnly = false
    public var channel: String?
    /// Part of the contact's name, a channel user id or phone number of theirs, their e-mail
    /// address or contact id; trimmed and not empty.
    public var contact: String?
    public var agentId: Int64?
    /// Nobody has it (no agent, no console assignee).
    public var unassigned = false
    public var departmentId: Int64?
    /// A tag as stored (trimmed, lower case).
    public var tag: String?
    public var priority: TicketPriority?
    public var ticketFields: [String: String] = [:]
    public var contactFields: [String: String] = [:]
    public var createdFrom: Date?
    public var createdBefore: Date?
    /// What the caller may see (nil: everything).
    public var visibility: TicketVisibility?

    public init() {}
}

/// The tickets a restricted agent may see: their own and their departments' (`Caller.visibility()`).
public struct TicketVisibility: Sendable, Equatable {
    public var agentId: Int64?
    public var departments: [Int64]

    public init(agentId: Int64?, departments: [Int64]) {
        self.agentId = agentId
        self.departments = departments
    }
}

/// Where a page of a ticket list ends: the domain turns it into an opaque cursor and back.
public enum TicketListPosition: Sendable, Equatable {
    /// `newest`: the last listed ticket's activity and id.
    case newest(updatedAt: Int64, id: Int64)
    /// `search`: the last listed ticket's newest matching message.
    case match(messageId: Int64)
    /// `longestWaiting`, still among the waiting tickets: the last listed one's wait and id.
    case waiting(since: Int64, id: Int64)
    /// `longestWaiting`, among the answered tickets after them.
    case answered(updatedAt: Int64, id: Int64)
}

/// One page of a ticket list; `next` is nil on the last page.
public struct TicketListPage: Sendable, Equatable {
    public var items: [TicketSummary]
    public var next: TicketListPosition?

    public init(items: [TicketSummary], next: TicketListPosition?) {
        self.items = items
        self.next = next
    }
}

/// `TicketQueryStore` on SQLite: FTS5 trigram tables (`messages_fts`, `contacts_fts`), the message
/// index filled after commits up to `search_cursor`, and reads under `SearchDeadline`.
public struct SQLiteTicketQueryStore: TicketQueryStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func newest(
        _ filter: TicketFilter, containing words: [String], after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage {
        var (conditions, arguments) = Self.conditions(filter)
        for word in words {
            // Shorter than a trigram: a plain scan.
            conditions.append("EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND instr(lower(m.text), lower(?)) > 0)")
            _ = arguments.append(contentsOf: [word])
        }
        if case .newest(let updatedAt, let id) = after {
            conditions.append("(t.updated_at < ? OR (t.updated_at = ? AND t.id < ?))")
            _ = arguments.append(contentsOf: [updatedAt, updatedAt, id])
        }
        let sql = """
            SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY t.updated_at DESC, t.id DESC LIMIT \(limit + 1)
            """
        let boundArguments = arguments
        return try await read(limits) { db, _ in
            let rows = try Row.fetchAll(db, sql: sql, arguments: boundArguments)
            let items = try rows.prefix(limit).map { try SQLiteTicketRows.summary($0, db, reader: reader) }
            let next = rows.count > limit ? items.last.map { TicketListPosition.newest(updatedAt: $0.updatedAt.ms, id: $0.id) } : nil
            return TicketListPage(items: items, next: next)
        }
    }

    /// The waiting tickets oldest first (index `tickets_waiting`), then the answered ones newest
    /// activity first (`tickets_answered` backwards).
    public func longestWaiting(
        _ filter: TicketFilter, after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage {
        let (conditions, arguments) = Self.conditions(filter)
        return try await read(limits) { db, _ in
            var rows: [Row] = []
            switch after {
            case nil, .newest, .match:
                rows = try Row.fetchAll(db, sql: Self.waitingSQL(conditions, .waiting, limit: limit + 1), arguments: arguments)
            case .waiting(let since, let id):
                rows = try Row.fetchAll(
                    db, sql: Self.waitingSQL(conditions + ["(t.waiting_since, t.id) > (?, ?)"], .waiting, limit: limit + 1),
                    arguments: arguments + [since, id])
            case .answered: break
            }
            if rows.count <= limit {
                var answered = conditions
                var answeredArguments = arguments
                if case .answered(let updatedAt, let id) = after {
                    answered.append("(t.updated_at, t.id) < (?, ?)")
                    answeredArguments += [updatedAt, id]
                }
                rows += try Row.fetchAll(db, sql: Self.waitingSQL(answered, .answered, limit: limit + 1 - rows.count), arguments: answeredArguments)
            }
            let page = rows.prefix(limit)
            let items = try page.map { try SQLiteTicketRows.summary($0, db, reader: reader) }
            var next: TicketListPosition?
            if rows.count > limit, let last = page.last {
                let (since, updatedAt, id): (Int64?, Int64, Int64) = (last["waiting_since"], last["updated_at"], last["id"])
                next = since.map { .waiting(since: $0, id: id) } ?? .answered(updatedAt: updatedAt, id: id)
            }
            return TicketListPage(items: items, next: next)
        }
    }

    /// The two parts of the longest-waiting list.
    enum WaitingPart {
        /// Oldest wait first, in `tickets_waiting`'s order.
        case waiting
        /// Newest activity first, read in `tickets_answered`'s order whatever the other filters: for
        /// an agent's or a status filter SQLite would rather search that filter's index and sort
        /// every ticket it finds, as `tickets_answered` has no column to search by (v40).
        case answered
    }

    /// One part of the longest-waiting list, with the filter's `conditions`.
    static func waitingSQL(_ conditions: [String], _ part: WaitingPart, limit: Int) -> String {
        let (condition, order, index) =
            switch part {
            case .waiting: ("t.waiting_since IS NOT NULL", "t.waiting_since, t.id", "")
            case .answered: ("t.waiting_since IS NULL", "t.updated_at DESC, t.id DESC", " INDEXED BY tickets_answered")
            }
        return """
            SELECT t.*, c.display_name FROM tickets t\(index) JOIN contacts c ON c.id = t.contact_id
            WHERE \(([condition] + conditions).joined(separator: " AND ")) ORDER BY \(order) LIMIT \(limit)
            """
    }

    /// Full-text search that stops after a page: matching messages are read newest first (the
    /// unindexed tail by a scan, then the FTS5 index in descending rowid order), each message's
    /// ticket is checked against the other filters once, and reading stops at `limit + 1` tickets.
    /// A common word costs a page's worth of matches, not every match.
    public func search(
        _ filter: TicketFilter, terms: [String], after: TicketListPosition?, limit: Int, reader: Int64?, limits: SearchLimits
    ) async throws -> TicketListPage {
        let (conditions, arguments) = Self.conditions(filter)
        let before: Int64 = if case .match(let messageId) = after { messageId } else { .max }
        let match = terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " AND ")
        let tailMatch = terms.map { _ in "instr(lower(text), lower(?)) > 0" }.joined(separator: " AND ")
        return try await read(limits) { db, deadline in
            let indexedUpTo = try Int64.fetchOne(db, sql: "SELECT last_message_id FROM search_cursor WHERE id = 1") ?? 0
            let ticketSQL = """
                SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id
                WHERE t.id = ?\(conditions.map { " AND " + $0 }.joined())
                """
            let ticketStatement = try db.makeStatement(sql: ticketSQL)
            let ticketOf = try db.cachedStatement(sql: "SELECT ticket_id FROM messages WHERE id = ?")
            let laterMessages = try db.cachedStatement(sql: "SELECT id, text FROM messages WHERE ticket_id = ? AND id >= ?")
            let indexedMatch = try db.cachedStatement(sql: "SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? AND rowid = ?")
            let lowered = terms.map { $0.lowercased() }
            func matches(_ id: Int64, _ text: String) throws -> Bool {
                try deadline.check()
                return id > indexedUpTo
                    ? lowered.allSatisfy { text.lowercased().contains($0) }
                    : try Bool.fetchOne(indexedMatch, arguments: [match, id]) != nil
            }
            var seen = Set<Int64>()
            var found: [(row: Row, messageId: Int64)] = []
            func consider(_ messageId: Int64) throws -> Bool {
                try deadline.check()
                guard let ticketId = try Int64.fetchOne(ticketOf, arguments: [messageId]), seen.insert(ticketId).inserted else { return false }
                guard let row = try Row.fetchOne(ticketStatement, arguments: [ticketId] + arguments) else { return false }
                if before != .max {
                    // Listed on an earlier page if it has a match at or after the cursor.
                    for later in try Row.fetchAll(laterMessages, arguments: [ticketId, before]) where try matches(later["id"], later["text"]) {
                        return false
                    }
                }
                found.append((row, messageId))
                return found.count > limit
            }
            let tail = try Int64.fetchCursor(
                db, sql: "SELECT id FROM messages WHERE id > ? AND id < ? AND \(tailMatch) ORDER BY id DESC",
                arguments: [indexedUpTo, before] + StatementArguments(terms))
            var full = false
            while !full, let id = try tail.next() { full = try consider(id) }
            if !full {
                let indexed = try Int64.fetchCursor(
                    db, sql: "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid <= ? AND rowid < ? ORDER BY rowid DESC",
                    arguments: [match, indexedUpTo, before])
                while !full, let id = try indexed.next() { full = try consider(id) }
            }
            let page = found.prefix(limit)
            let items = try page.map { try SQLiteTicketRows.summary($0.row, db, reader: reader) }
            return TicketListPage(items: items, next: full ? page.last.map { .match(messageId: $0.messageId) } : nil)
        }
    }

    /// Each count is one `count(*)` over `tickets` answered from an index where the filter has one
    /// (status, agent, department, tag, queue), without reading the contacts unless the filter
    /// names one.
    public func count(_ filters: [String: TicketFilter]) async throws -> [String: Int] {
        let statements = filters.map { key, filter in
            let (conditions, arguments) = Self.conditions(filter, counting: true)
            let join = filter.contact == nil ? "" : " JOIN contacts c ON c.id = t.contact_id"
            let sql = "SELECT count(*) FROM tickets t\(join)" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            return (key: key, sql: sql, arguments: arguments)
        }
        return try await database.pool.read { db in
            var counts: [String: Int] = [:]
            for statement in statements {
                counts[statement.key] = try Int.fetchOne(db, sql: statement.sql, arguments: statement.arguments) ?? 0
            }
            return counts
        }
    }

    /// Run after commits (SearchIndexer), so webhooks never wait for indexing.
    public func indexNewMessages(limit: Int) async throws -> Int {
        try await database.pool.write { db in
            let cursor = try Int64.fetchOne(db, sql: "SELECT last_message_id FROM search_cursor WHERE id = 1") ?? 0
            let last = try Int64.fetchOne(
                db, sql: "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)", arguments: [cursor, limit])
            guard let last else { return 0 }
            try db.execute(
                sql: "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ? AND id <= ? ORDER BY id",
                arguments: [cursor, last])
            let count = db.changesCount
            try db.execute(sql: "UPDATE search_cursor SET last_message_id = ? WHERE id = 1", arguments: [last])
            return count
        }
    }

    /// A read for a ticket list or search, under `limits`' deadline (see `SearchDeadline`).
    private func read<T: Sendable>(_ limits: SearchLimits, _ body: @Sendable (Database, SearchDeadline) throws -> T) async throws -> T {
        try await database.pool.read { db in try SearchDeadline.run(db, limits) { try body(db, $0) } }
    }

    /// The filter as SQL over `tickets t JOIN contacts c`. A list walks the tickets in its order and
    /// stops after a page, so it checks a channel per ticket; a count (`counting`) reads every
    /// match, so it takes the channel's tickets from its index instead.
    static func conditions(_ filter: TicketFilter, counting: Bool = false) -> (conditions: [String], arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        func add(_ sql: String, _ values: [(any DatabaseValueConvertible)?]) {
            conditions.append(sql)
            _ = arguments.append(contentsOf: StatementArguments(values))
        }
        if let status = filter.status { add("t.status = ?", [status.rawValue]) }
        if filter.activeOnly { add("t.status IN ('new', 'open', 'pending')", []) }
        if let channel = filter.channel {
            add(counting
                ? "t.id IN (SELECT ticket_id FROM ticket_channels WHERE channel = ?)"
                : "EXISTS (SELECT 1 FROM ticket_channels tc WHERE tc.ticket_id = t.id AND tc.channel = ?)", [channel])
        }
        if let contact = filter.contact {
            let digits = contact.filter(\.isNumber)
            let byId = """
                t.contact_id IN (SELECT contact_id FROM identities WHERE platform_user_id = ?)
                OR (? != '' AND t.contact_id IN (SELECT contact_id FROM identities WHERE phone = ?))
                OR t.contact_id IN (SELECT id FROM contacts WHERE email = ? COLLATE NOCASE)
                OR t.contact_id = ?
                """
            let contactId = Int64(contact) ?? -1
            if contact.count >= 3 {
                // The trigram index on names finds any part of a name.
                let phrase = "\"" + contact.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                add("(t.contact_id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?) OR \(byId))", [phrase, contact, digits, digits, contact, contactId])
            } else {
                add("(instr(lower(coalesce(c.display_name, '')), lower(?)) > 0 OR \(byId))", [contact, contact, digits, digits, contact, contactId])
            }
        }
        if let agentId = filter.agentId { add("t.agent_id = ?", [agentId]) }
        if filter.unassigned { add("t.agent_id IS NULL AND t.assignee IS NULL", []) }
        if let departmentId = filter.departmentId { add("t.department_id = ?", [departmentId]) }
        if let tag = filter.tag { add("t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ?)", [tag]) }
        if let priority = filter.priority { add("t.priority = ?", [priority.rawValue]) }
        for (key, value) in filter.ticketFields.sorted(by: { $0.key < $1.key }) {
            add("""
                t.id IN (SELECT ticket_id FROM ticket_fields WHERE value = ?
                         AND field_id = (SELECT id FROM custom_fields WHERE scope = 'ticket' AND key = ?))
                """, [value, key])
        }
        for (key, value) in filter.contactFields.sorted(by: { $0.key < $1.key }) {
            add("""
                t.contact_id IN (SELECT contact_id FROM contact_fields WHERE value = ?
                                 AND field_id = (SELECT id FROM custom_fields WHERE scope = 'contact' AND key = ?))
                """, [value, key])
        }
        if let from = filter.createdFrom { add("t.created_at >= ?", [from.ms]) }
        if let before = filter.createdBefore { add("t.created_at < ?", [before.ms]) }
        if let visibility = filter.visibility {
            // The unary `+` keeps SQLite from answering the OR with two index lookups and a sort of
            // every visible ticket: an agent's departments hold a good share of the tickets, so
            // walking the newest-first index and stopping after a page is cheaper.
            let departments = visibility.departments.isEmpty ? "NULL" : visibility.departments.map(String.init).joined(separator: ",")
            add("(+t.agent_id = ? OR +t.department_id IN (\(departments)))", [visibility.agentId ?? -1])
        }
        return (conditions, arguments)
    }
}
