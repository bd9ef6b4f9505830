import ChannelKit
import Foundation
import GRDB

/// A filtered page of the ticket list, newest activity first.
public struct TicketQuery: Sendable, Equatable {
    public var status: TicketStatus?
    /// Only tickets still being worked: new, open or pending (the inbox's Mine, Unassigned and All).
    public var activeOnly = false
    public var channel: String?
    /// Words that must appear in one of the ticket's messages (any language; 3+ characters use the index).
    public var text: String?
    /// Part of the contact's name, or a channel user id or phone number of theirs.
    public var contact: String?
    /// Assigned to this agent; `unassigned` for tickets nobody has.
    public var agentId: Int64?
    public var unassigned: Bool = false
    public var departmentId: Int64?
    public var tag: String?
    public var priority: TicketPriority?
    /// Custom field values that must match exactly, by key (ticket fields and contact fields).
    public var ticketFields: [String: String] = [:]
    public var contactFields: [String: String] = [:]
    /// Created at or after / before.
    public var createdFrom: Date?
    public var createdBefore: Date?
    public var cursor: String?
    public var limit: Int
    /// Newest activity first, or longest waiting first (not with full-text words).
    public var sort: TicketSort = .newest
    /// Who is asking: limits the list to what they may read and fills `unread`.
    public var actor: Caller?

    public init(
        status: TicketStatus? = nil, channel: String? = nil, text: String? = nil, contact: String? = nil, cursor: String? = nil, limit: Int = 50
    ) {
        self.status = status
        self.channel = channel
        self.text = text
        self.contact = contact
        self.cursor = cursor
        self.limit = limit
    }
}

public struct TicketPage: Sendable, Equatable {
    public var items: [TicketSummary]
    /// Pass back as `cursor` for the next page; `nil` on the last page.
    public var nextCursor: String?
}

/// A search page's cursor: the last listed ticket's matching message, opaque to clients.
enum SearchCursor {
    static func encode(_ messageId: Int64) -> String { Data("s:\(messageId)".utf8).base64EncodedString() }

    static func decode(_ cursor: String) -> Int64? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("s:"), let id = Int64(text.dropFirst(2)), id > 0 else { return nil }
        return id
    }
}

/// Keyset cursor over (updated_at, id), opaque to clients.
enum TicketCursor {
    static func encode(updatedAt: Int64, id: Int64) -> String {
        Data("\(updatedAt):\(id)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String) -> (updatedAt: Int64, id: Int64)? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":")
        guard parts.count == 2, let u = Int64(parts[0]), let i = Int64(parts[1]) else { return nil }
        return (u, i)
    }
}

extension Inbox {
    /// A page of tickets, newest activity first. With search words of 3+ characters (`text`), the
    /// page holds the tickets whose newest matching message is newest, and its cursor continues
    /// from there (see `searchTickets`). A query over `searchLimits` is refused before anything
    /// runs, and the reads run under its deadline (`searchRead`).
    public func listTickets(_ query: TicketQuery) async throws -> TicketPage {
        try searchLimits.check(query)
        let terms = SearchLimits.terms(query.text)
        if query.sort == .waiting, !terms.isEmpty {
            throw InboxError.unprocessable(code: "invalid_sort", message: "sort=waiting does not combine with q; search results come newest match first")
        }
        if !terms.isEmpty, terms.allSatisfy({ $0.count >= 3 }) { return try await searchTickets(query, terms: terms) }
        var (conditions, arguments) = try Self.filters(query)
        if query.sort == .waiting {
            let (limit, reader, boundArguments, cursor) = (min(max(query.limit, 1), 200), query.actor?.agentId, arguments, query.cursor)
            return try await searchRead { [conditions] db, _ in
                try Self.waitingPage(db, conditions: conditions, arguments: boundArguments, cursor: cursor, limit: limit, reader: reader)
            }
        }
        for term in terms {
            // Shorter than a trigram: a plain scan.
            conditions.append("EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND instr(lower(m.text), lower(?)) > 0)")
            _ = arguments.append(contentsOf: [term])
        }
        if let cursor = query.cursor {
            guard let (updatedAt, id) = TicketCursor.decode(cursor) else {
                throw InboxError.unprocessable(code: "invalid_cursor", message: "cursor is not one this server returned")
            }
            conditions.append("(t.updated_at < ? OR (t.updated_at = ? AND t.id < ?))")
            _ = arguments.append(contentsOf: [updatedAt, updatedAt, id])
        }
        let limit = min(max(query.limit, 1), 200)
        let sql = """
            SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY t.updated_at DESC, t.id DESC LIMIT \(limit + 1)
            """
        let boundArguments = arguments
        let reader = query.actor?.agentId
        return try await searchRead { db, _ in
            let rows = try Row.fetchAll(db, sql: sql, arguments: boundArguments)
            let items = try rows.prefix(limit).map { try Self.summary($0, db, reader: reader) }
            let next = rows.count > limit ? items.last.map { TicketCursor.encode(updatedAt: $0.updatedAt.ms, id: $0.id) } : nil
            return TicketPage(items: items, nextCursor: next)
        }
    }

    /// Full-text search that stops after a page: matching messages are read newest first (the
    /// unindexed tail by a scan, then the FTS5 index in descending rowid order), each message's
    /// ticket is checked against the other filters once, and reading stops at `limit + 1` tickets.
    /// A common word costs a page's worth of matches, not every match. The cursor is the last
    /// listed ticket's matching message; a later page skips tickets that matched after it (they
    /// were listed already).
    func searchTickets(_ query: TicketQuery, terms: [String]) async throws -> TicketPage {
        let (conditions, arguments) = try Self.filters(query)
        let before: Int64
        if let cursor = query.cursor {
            guard let id = SearchCursor.decode(cursor) else {
                throw InboxError.unprocessable(code: "invalid_cursor", message: "cursor is not one this server returned")
            }
            before = id
        } else {
            before = .max
        }
        let match = terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " AND ")
        let tailMatch = terms.map { _ in "instr(lower(text), lower(?)) > 0" }.joined(separator: " AND ")
        let limit = min(max(query.limit, 1), 200)
        let reader = query.actor?.agentId
        return try await searchRead { db, deadline in
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
            let items = try page.map { try Self.summary($0.row, db, reader: reader) }
            return TicketPage(items: items, nextCursor: full ? page.last.map { SearchCursor.encode($0.messageId) } : nil)
        }
    }

    /// A read for a ticket list or search, under `searchLimits`' deadline (see `SearchDeadline`).
    private func searchRead<T: Sendable>(_ body: @Sendable (Database, SearchDeadline) throws -> T) async throws -> T {
        let limits = searchLimits
        return try await database.pool.read { db in try SearchDeadline.run(db, limits) { try body(db, $0) } }
    }

    /// The filters other than text and cursor, as SQL over `tickets t JOIN contacts c`. A list walks
    /// the tickets in its order and stops after a page, so it checks a channel per ticket; a count
    /// (`counting`) reads every match, so it takes the channel's tickets from its index instead.
    static func filters(_ query: TicketQuery, counting: Bool = false) throws -> (conditions: [String], arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        func add(_ sql: String, _ values: [(any DatabaseValueConvertible)?]) {
            conditions.append(sql)
            _ = arguments.append(contentsOf: StatementArguments(values))
        }
        if let status = query.status { add("t.status = ?", [status.rawValue]) }
        if query.activeOnly { add("t.status IN ('new', 'open', 'pending')", []) }
        if let channel = query.channel {
            add(counting
                ? "t.id IN (SELECT ticket_id FROM ticket_channels WHERE channel = ?)"
                : "EXISTS (SELECT 1 FROM ticket_channels tc WHERE tc.ticket_id = t.id AND tc.channel = ?)", [channel])
        }
        if let contact = query.contact?.trimmingCharacters(in: .whitespacesAndNewlines), !contact.isEmpty {
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
        if let agentId = query.agentId { add("t.agent_id = ?", [agentId]) }
        if query.unassigned { add("t.agent_id IS NULL AND t.assignee IS NULL", []) }
        if let departmentId = query.departmentId { add("t.department_id = ?", [departmentId]) }
        if let tag = query.tag { add("t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ?)", [try Self.tag(tag)]) }
        if let priority = query.priority { add("t.priority = ?", [priority.rawValue]) }
        for (key, value) in query.ticketFields.sorted(by: { $0.key < $1.key }) {
            add("""
                t.id IN (SELECT ticket_id FROM ticket_fields WHERE value = ?
                         AND field_id = (SELECT id FROM custom_fields WHERE scope = 'ticket' AND key = ?))
                """, [value, key])
        }
        for (key, value) in query.contactFields.sorted(by: { $0.key < $1.key }) {
            add("""
                t.contact_id IN (SELECT contact_id FROM contact_fields WHERE value = ?
                                 AND field_id = (SELECT id FROM custom_fields WHERE scope = 'contact' AND key = ?))
                """, [value, key])
        }
        if let from = query.createdFrom { add("t.created_at >= ?", [from.ms]) }
        if let before = query.createdBefore { add("t.created_at < ?", [before.ms]) }
        if let visibility = query.actor?.visibility() {
            conditions.append(visibility.sql)
            _ = arguments.append(contentsOf: visibility.arguments)
        }
        return (conditions, arguments)
    }

    /// A ticket; `reader` (an agent id) fills `unread`.
    public func ticket(id: Int64, reader: Int64? = nil) async throws -> TicketSummary? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT t.*, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?",
                arguments: [id]
            ).map { try Self.summary($0, db, reader: reader) }
        }
    }

    static func summary(_ row: Row, _ db: Database, reader: Int64? = nil) throws -> TicketSummary {
        let id: Int64 = row["id"]
        let channels = try String.fetchAll(db.cachedStatement(sql: "SELECT channel FROM ticket_channels WHERE ticket_id = ? ORDER BY rowid"), arguments: [id])
        let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM messages WHERE ticket_id = ?"), arguments: [id]) ?? 0
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT direction, text, created_at FROM messages WHERE id = ?"), arguments: [version])
        let waitingSince: Int64? = row["waiting_since"]
        return TicketSummary(
            id: id, status: try row.decode("status", as: TicketStatus.self),
            contact: ContactSummary(id: row["contact_id"], displayName: row["display_name"]), channels: channels,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]),
            resolvedAt: (row["resolved_at"] as Int64?).map { Date(ms: $0) }, assignee: row["assignee"],
            agentId: row["agent_id"], departmentId: row["department_id"],
            priority: try row.decode("priority", as: TicketPriority.self),
            tags: try String.fetchAll(db.cachedStatement(sql: "SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag"), arguments: [id]),
            resolutionReason: try row.decodeIfPresent("resolution_reason", as: ResolutionReason.self),
            mergedInto: row["merged_into"], queuedAt: (row["queued_at"] as Int64?).map { Date(ms: $0) },
            version: version,
            unread: try reader.map { agent in
                try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM messages WHERE ticket_id = ?1 AND direction = 'in'
                        AND id > coalesce((SELECT last_message_id FROM ticket_reads WHERE ticket_id = ?1 AND agent_id = ?2), 0))
                    """), arguments: [id, agent]) ?? false
            },
            fields: try Self.fieldValues(db, scope: .ticket, subject: id),
            lastMessage: last.map { TicketSummary.LastMessage(direction: $0["direction"], text: $0["text"], createdAt: Date(ms: $0["created_at"])) },
            waitingSince: waitingSince.map { Date(ms: $0) })
    }

    /// A contact's tickets, newest first (tickets merged into another are left out: their messages moved).
    public func tickets(ofContact contactId: Int64) async throws -> [Int64] {
        try await database.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM tickets WHERE contact_id = ? AND merged_into IS NULL ORDER BY id DESC", arguments: [contactId])
        }
    }

    /// A ticket's messages in conversation order, or `nil` if there is no such ticket.
    public func messages(ticketId: Int64) async throws -> [StoredMessage]? {
        try await database.pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE id = ?", arguments: [ticketId]) != nil else { return nil }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM messages WHERE ticket_id = ? ORDER BY created_at, id", arguments: [ticketId])
            let attachments = try Dictionary(grouping: Self.attachments(db, where: "message_id IN (SELECT id FROM messages WHERE ticket_id = ?)", [ticketId]), by: \.messageId)
            return try rows.map { try Self.message($0, attachments: attachments[$0["id"]] ?? []) }
        }
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]).map {
                try Self.message($0, attachments: Self.attachments(db, where: "message_id = ?", [id]))
            }
        }
    }

    static func message(_ row: Row, attachments: [AttachmentInfo]) throws -> StoredMessage {
        StoredMessage(
            id: row["id"], ticketId: row["ticket_id"], direction: try row.decode("direction", as: MessageDirection.self),
            channel: row["channel"], account: row["account"], content: try ContentCoding.decode(MessageContent.self, row["content"]),
            text: row["text"], status: row["status"], platformMessageId: row["platform_message_id"],
            failureCode: row["failure_code"], failureReason: row["failure_reason"],
            segments: (row["segments"] as Int?).map { MessageSegments(count: $0, encoding: row["segment_encoding"] ?? "gsm7") },
            author: row["author"],
            attachments: attachments,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]))
    }

    public func attachment(id: Int64) async throws -> AttachmentInfo? {
        try await database.pool.read { db in try Self.attachments(db, where: "id = ?", [id]).first }
    }

    static func attachments(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [AttachmentInfo] {
        try Row.fetchAll(db, sql: "SELECT * FROM attachments WHERE \(condition) ORDER BY id", arguments: arguments).map { row in
            let media = try? ContentCoding.decode(MediaReference.self, row["media"])
            return AttachmentInfo(
                id: row["id"], messageId: row["message_id"], status: try row.decode("status", as: AttachmentInfo.Status.self),
                mimeType: row["mime_type"], size: row["size"], fileName: media?.fileName, path: row["path"], failureReason: row["failure_reason"])
        }
    }

    public func contact(id: Int64) async throws -> ContactDetail? {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]) else { return nil }
            let identities = try Row.fetchAll(db, sql: "SELECT * FROM identities WHERE contact_id = ? ORDER BY id", arguments: [id]).map { i in
                ContactDetail.Identity(
                    channel: i["channel"], account: i["account"], platformUserId: i["platform_user_id"], displayName: i["display_name"],
                    phone: i["phone"], lastInboundAt: (i["last_inbound_at"] as Int64?).map { Date(ms: $0) }, blocked: i["blocked"])
            }
            return ContactDetail(
                id: id, displayName: row["display_name"], email: row["email"], fields: try Self.fieldValues(db, scope: .contact, subject: id),
                tags: try Self.contactTags(db, contactId: id), identities: identities, createdAt: Date(ms: row["created_at"]))
        }
    }
}
