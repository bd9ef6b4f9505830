import Foundation
import Testing
import UniversalInbox

/// `DataCareStore` as every implementation must keep it: erasing a contact leaves nothing of them
/// in any table (every table with a contact or ticket column, found from the schema itself, so a
/// table added later is checked too), an export holds every part of their data, retention clears
/// exactly what is older than its periods as of the given time, and the audit log and health
/// figures read back what is stored.
@Suite struct DataCareContractTests {
    /// Words only Alice's conversation holds: none may survive her erasure anywhere.
    static let secret = "alice-secret-words"

    /// The rows one customer leaves across the schema: a contact with an identity, tags and a field,
    /// a ticket with everything that hangs on one, a message with an attachment, a queued reply,
    /// jobs, a receipt, an unreadable event naming them, a rating, a campaign recipient.
    struct Customer {
        var contact: Int64
        var ticket: Int64
        var message: Int64
        var attachment: Int64
        var file: String
    }

    struct Shared {
        var agent: Int64
        var contactField: Int64
        var ticketField: Int64
        var rule: Int64
        var campaign: Int64
        var webhook: Int64
    }

    static func shared(_ sql: PlainSQL) async throws -> Shared {
        Shared(
            agent: try await sql.int64("INSERT INTO agents (email, name, role, max_tickets, created_at, updated_at) VALUES ('ann@example.com', 'Ann', 'agent', 5, 0, 0) RETURNING id"),
            contactField: try await sql.int64("INSERT INTO custom_fields (scope, key, label, type, created_at) VALUES ('contact', 'plan', 'Plan', 'text', 0) RETURNING id"),
            ticketField: try await sql.int64("INSERT INTO custom_fields (scope, key, label, type, created_at) VALUES ('ticket', 'order', 'Order', 'text', 0) RETURNING id"),
            rule: try await sql.int64("INSERT INTO rules (position, name, trigger, conditions, actions, created_at) VALUES (1, 'r', 'ticket_created', '[]', '[]', 0) RETURNING id"),
            campaign: try await sql.int64("""
                INSERT INTO campaigns (name, status, audience, content, created_by, created_at, updated_at) VALUES ('c', 'running', '{}', '{}', 'Ann', 0, 0) RETURNING id
                """),
            webhook: try await sql.int64("INSERT INTO webhooks (url, secret, events, created_at) VALUES ('http://127.0.0.1:9/x', 's', '[]', 0) RETURNING id"))
    }

    static func customer(_ name: String, words: String, _ shared: Shared, _ stores: Stores, files: URL) async throws -> Customer {
        let sql = stores.sql
        let user = "U\(name)0000000000000000000000000"
        let contact = try await sql.int64("INSERT INTO contacts (display_name, email, created_at, updated_at) VALUES ('\(name)', '\(name)@example.com', 0, 0) RETURNING id")
        let identity = try await sql.int64("""
            INSERT INTO identities (contact_id, account, channel, platform_user_id, display_name, reply_token, created_at)
            VALUES (\(contact), 'line/main', 'line', '\(user)', '\(name)', 'token-\(name)', 0) RETURNING id
            """)
        try await sql.execute("INSERT INTO contact_fields (contact_id, field_id, value) VALUES (\(contact), \(shared.contactField), 'gold')")
        try await sql.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (\(contact), 'vip')")
        let ticket = try await sql.int64("""
            INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(contact), 'open', \(identity), 0, 0) RETURNING id
            """)
        try await sql.execute("INSERT INTO ticket_channels (ticket_id, channel) VALUES (\(ticket), 'line')")
        let message = try await sql.int64("""
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, platform_message_id, idempotency_key, created_at, updated_at)
            VALUES (\(ticket), \(identity), 'inbound', 'line', 'line/main', '{"kind":"image","text":"\(words)"}', '\(words)', 'received', 'pm-\(name)', 'k-\(name)', 0, 0) RETURNING id
            """)
        let file = files.appendingPathComponent("\(name).jpg").path
        try Data("picture".utf8).write(to: URL(fileURLWithPath: file))
        let attachment = try await sql.int64("""
            INSERT INTO attachments (message_id, account, media, status, path, created_at, updated_at) VALUES (\(message), 'line/main', '{}', 'stored', '\(file)', 0, 0) RETURNING id
            """)
        let reply = try await sql.int64("""
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
            VALUES (\(ticket), \(identity), 'outbound', 'line', 'line/main', '{"kind":"text","text":"re \(words)"}', 're \(words)', 'queued', 'r-\(name)', 0, 0) RETURNING id
            """)
        try await sql.execute("INSERT INTO outbox (message_id, ticket_id, account, next_attempt_at) VALUES (\(reply), \(ticket), 'line/main', 0)")
        try await sql.execute("INSERT INTO jobs (kind, account, subject_id, next_attempt_at) VALUES ('media', 'line/main', \(attachment), 0), ('profile', 'line/main', \(identity), 0)")
        try await sql.execute("INSERT INTO pending_receipts (account, platform_message_id, status, received_at) VALUES ('line/main', 'pm-\(name)', 'read', 0)")
        try await sql.execute("INSERT INTO unreadable_events (account, reason, raw, digest, received_at) VALUES ('line/main', 'odd', '{\"userId\":\"\(user)\",\"text\":\"\(words)\"}', 'd-\(name)', 0)")
        try await sql.execute("INSERT INTO console_threads (account, ticket_id, channel, thread) VALUES ('slack/main', \(ticket), 'C1', 't-\(name)')")
        try await sql.execute("INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (\(ticket), 'note', 'Ann', '\(words)', 0)")
        try await sql.execute("INSERT INTO ticket_tags (ticket_id, tag) VALUES (\(ticket), 'refund')")
        try await sql.execute("INSERT INTO ticket_notes (ticket_id, agent_id, author, text, created_at) VALUES (\(ticket), \(shared.agent), 'Ann', 'note on \(words)', 0)")
        try await sql.execute("INSERT INTO ticket_reads (ticket_id, agent_id, last_message_id) VALUES (\(ticket), \(shared.agent), \(message))")
        try await sql.execute("INSERT INTO ticket_fields (ticket_id, field_id, value) VALUES (\(ticket), \(shared.ticketField), 'A-1')")
        try await sql.execute("INSERT INTO spam_training (ticket_id, label, tokens) VALUES (\(ticket), 'ham', '\(words)')")
        try await sql.execute("INSERT INTO ratings (ticket_id, contact_id, requested_at, state, choices, rating) VALUES (\(ticket), \(contact), 0, 'requested', '[]', 'good')")
        try await sql.execute("INSERT INTO rule_runs (rule_id, ticket_id, key, ran_at) VALUES (\(shared.rule), \(ticket), 'k', 0)")
        try await sql.execute("INSERT INTO campaign_recipients (campaign_id, contact_id, identity_id, status, updated_at) VALUES (\(shared.campaign), \(contact), \(identity), 'sent', 0)")
        try await sql.execute("""
            INSERT INTO notifications (agent_id, medium, event, ticket_id, summary, due_at, created_at) VALUES (\(shared.agent), 'email', 'new_message', \(ticket), '\(words)', 0, 0)
            """)
        try await sql.execute("INSERT INTO drafts (ticket_id, agent_id, mode, text, updated_at) VALUES (\(ticket), \(shared.agent), 'reply', 'draft \(words)', 0)")
        // Webhook deliveries about the ticket, queued and sent, as the feed writes them.
        for (event, data) in [
            ("ticket.created", #"{"contact":{"id":\#(contact)},"id":\#(ticket)}"#),
            ("message.created", #"{"text":"\#(words)","ticketId":\#(ticket)}"#),
            ("ticket.updated", #"{"kind":"note","ticketId":\#(ticket)}"#),
            ("rule.fired", #"{"rule":"r","ticket":{"id":\#(ticket)}}"#),
        ] {
            try await sql.execute("""
                INSERT INTO webhook_deliveries (webhook_id, event, payload, status, next_attempt_at, created_at)
                VALUES (\(shared.webhook), '\(event)', '{"createdAt":"2026-01-01T00:00:00.000Z","data":\(data),"event":"\(event)"}', 'delivered', 0, 0)
                """)
        }
        if case .postgres = sql {
            try await sql.execute("""
                INSERT INTO presence (connection_id, ticket_id, process_id, agent_id, agent_name, state, expires_at)
                VALUES ('\(UUID())', \(ticket), 'p', \(shared.agent), 'Ann', 'viewing', 0)
                """)
            try await sql.execute("INSERT INTO presence_changes (ticket_id, version) VALUES (\(ticket), 1)")
        }
        return Customer(contact: contact, ticket: ticket, message: message, attachment: attachment, file: file)
    }

    /// Every table with a `contact_id` or `ticket_id` column, read from the schema.
    static func tablesWithCustomerColumns(_ sql: PlainSQL) async throws -> [(table: String, column: String)] {
        let rows: [[PlainSQL.Value]] =
            switch sql {
            case .sqlite:
                try await sql.rows("""
                    SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                     WHERE m.type = 'table' AND p.name IN ('contact_id', 'ticket_id') ORDER BY 1, 2
                    """)
            case .postgres:
                try await sql.rows("""
                    SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c JOIN information_schema.tables t
                      ON t.table_name = c.table_name AND t.table_schema = c.table_schema
                     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.column_name IN ('contact_id', 'ticket_id') ORDER BY 1, 2
                    """)
            }
        return rows.map { ($0[0].text!, $0[1].text!) }
    }

    /// How many rows of each table hold `words` in any column.
    static func tablesHolding(_ words: String, _ sql: PlainSQL) async throws -> [String] {
        var found: [String] = []
        switch sql {
        case .sqlite:
            let tables = try await sql.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'")
            for table in tables.compactMap({ $0[0].text }) {
                let columns = try await sql.rows("SELECT name FROM pragma_table_info('\(table)')").compactMap { $0[0].text }
                let test = columns.map { "CAST(\"\($0)\" AS TEXT) LIKE '%\(words)%'" }.joined(separator: " OR ")
                if try await sql.int64("SELECT count(*) FROM \"\(table)\" WHERE \(test)") > 0 { found.append(table) }
            }
        case .postgres:
            let tables = try await sql.rows("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
            for table in tables.compactMap({ $0[0].text }) where try await sql.int64("SELECT count(*) FROM \"\(table)\" t WHERE t::text LIKE '%\(words)%'") > 0 {
                found.append(table)
            }
        }
        return found.sorted()
    }

    func rowsAbout(_ customer: Customer, in table: String, column: String, _ sql: PlainSQL) async throws -> Int64 {
        let id = column == "contact_id" ? customer.contact : customer.ticket
        return try await sql.int64("SELECT count(*) FROM \(table) WHERE \(column) = \(id)")
    }

    @Test(arguments: StoreKind.available)
    func erasingAContactLeavesNothingOfThemInAnyTable(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let files = FileManager.default.temporaryDirectory.appendingPathComponent("erase-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: files) }
            let shared = try await Self.shared(stores.sql)
            let alice = try await Self.customer("alice", words: Self.secret, shared, stores, files: files)
            let bob = try await Self.customer("bob", words: "bob-plain-words", shared, stores, files: files)
            if case .sqlite = stores.sql { _ = try await stores.ticketQueries.indexNewMessages(limit: 1) }  // one indexed, the others not yet
            let tables = try await Self.tablesWithCustomerColumns(stores.sql)
            #expect(tables.count >= 20)
            // The fixture reaches every such table, so the check below means something for each.
            for (table, column) in tables {
                #expect(try await rowsAbout(alice, in: table, column: column, stores.sql) > 0, "the fixture has no \(table) row for Alice: give it one and erase it")
            }
            let bobBefore = try await tables.asyncMap { try await rowsAbout(bob, in: $0.table, column: $0.column, stores.sql) }
            #expect(try await Self.tablesHolding(Self.secret, stores.sql).isEmpty == false)

            let outcome = try #require(try await stores.dataCare.eraseContact(alice.contact))
            #expect(outcome.contactId == alice.contact && outcome.tickets == 1 && outcome.messages == 2 && outcome.attachments == 1)
            #expect(outcome.files == [alice.file])

            for (table, column) in tables {
                #expect(try await rowsAbout(alice, in: table, column: column, stores.sql) == 0, "\(table).\(column) still holds Alice's rows")
            }
            #expect(try await Self.tablesHolding(Self.secret, stores.sql) == [], "Alice's words are still stored")
            #expect(try await Self.tablesHolding("Ualice", stores.sql) == [], "Alice's platform id is still stored")
            #expect(try await stores.sql.int64("SELECT count(*) FROM attachments WHERE id = \(alice.attachment)") == 0)
            #expect(try await stores.sql.int64("SELECT count(*) FROM jobs WHERE subject_id = \(alice.attachment) AND kind = 'media'") == 0)
            #expect(try await stores.sql.int64("SELECT count(*) FROM pending_receipts WHERE platform_message_id = 'pm-alice'") == 0)
            // Bob is untouched.
            #expect(try await tables.asyncMap { try await rowsAbout(bob, in: $0.table, column: $0.column, stores.sql) } == bobBefore)
            #expect(try await stores.sql.int64("SELECT count(*) FROM pending_receipts WHERE platform_message_id = 'pm-bob'") == 1)
            #expect(try await stores.sql.int64("SELECT count(*) FROM unreadable_events") == 1)
            #expect(try await stores.sql.int64("SELECT count(*) FROM webhook_deliveries") == 4, "Bob's deliveries are kept")
            if case .sqlite = stores.sql {
                // The search index finds Bob's words and no longer Alice's, and is whole.
                try await stores.sql.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
                _ = try await stores.ticketQueries.indexNewMessages(limit: 100)
                #expect(try await stores.sql.int64("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"secret\"'") == 0)
                #expect(try await stores.sql.int64("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"plain\"'") == 2)
            }
            #expect(try await stores.dataCare.eraseContact(alice.contact) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func anExportHoldsEveryPartOfTheContactsDataAndNoSecret(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let files = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: files) }
            let shared = try await Self.shared(stores.sql)
            let alice = try await Self.customer("alice", words: Self.secret, shared, stores, files: files)
            _ = try await Self.customer("bob", words: "bob-plain-words", shared, stores, files: files)
            let export = try #require(try await stores.dataCare.exportContact(alice.contact))
            #expect(Set(export.keys) == Set(ContactDataSQL.export(alice.contact).map { $0.table }))
            for (table, rows) in export { #expect(!rows.isEmpty, "\(table) is empty") }
            #expect(export["contact"]?.first?["display_name"] == .text("alice"))
            #expect(export["messages"]?.map { $0["text"] } == [.text(Self.secret), .text("re \(Self.secret)")])
            #expect(export["contactFields"]?.first?["value"] == .text("gold"))
            #expect(export["ticketNotes"]?.first?["text"] == .text("note on \(Self.secret)"))
            #expect(export["ratings"]?.first?["rating"] == .text("good"))
            // No reply token, no server path; nothing of Bob.
            #expect(export["identities"]?.first?["reply_token"] == nil && export["identities"]?.first?["platform_user_id"] != nil)
            #expect(export["attachments"]?.first?["path"] == nil && export["attachments"]?.first?["id"] == .int(alice.attachment))
            let encoded = String(decoding: try JSONEncoder().encode(export), as: UTF8.self)
            #expect(!encoded.contains("bob") && !encoded.contains("token-alice"))
            #expect(try await stores.dataCare.exportContact(999_999) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func retentionClearsWhatIsOlderThanItsPeriodsAsOfTheGivenTime(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let day: Int64 = 86_400_000
            let files = FileManager.default.temporaryDirectory.appendingPathComponent("retain-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: files) }
            let shared = try await Self.shared(stores.sql)
            let old = try await Self.customer("olive", words: "old-words", shared, stores, files: files)
            let new = try await Self.customer("nina", words: "new-words", shared, stores, files: files)
            try await stores.sql.execute("UPDATE messages SET created_at = \(10 * day) WHERE ticket_id = \(new.ticket)")
            try await stores.sql.execute("UPDATE attachments SET created_at = \(10 * day) WHERE id = \(new.attachment)")
            if case .sqlite = stores.sql { _ = try await stores.ticketQueries.indexNewMessages(limit: 1) }
            let now = Date(ms: 12 * day)

            // Keep forever by default: nothing happens.
            #expect(try await stores.dataCare.retention() == RetentionSettings())
            #expect(try await stores.dataCare.applyRetention(now: now, limit: 100) == RetentionOutcome())
            #expect(try await stores.sql.int64("SELECT count(*) FROM webhook_deliveries") == 8)

            try await stores.dataCare.setRetention(RetentionSettings(messagesDays: 5, attachmentsDays: 3), at: now)
            #expect(try await stores.dataCare.retention() == RetentionSettings(messagesDays: 5, attachmentsDays: 3))
            let outcome = try await stores.dataCare.applyRetention(now: now, limit: 100)
            // Olive's inbound message is 12 days old: cleared. Her reply waits in the outbox: kept
            // until sent. Nina's are 2 days old. Olive's attachment is deleted, Nina's kept.
            #expect(outcome == RetentionOutcome(messagesCleared: 1, attachmentsDeleted: 1, files: [old.file]))
            #expect(try await stores.sql.rows("SELECT text, content FROM messages WHERE id = \(old.message)") == [[.text(""), .text(ContactDataSQL.clearedContent)]])
            #expect(try await stores.sql.int64("SELECT count(*) FROM messages WHERE text LIKE '%new-words%'") == 2)
            #expect(try await stores.sql.int64("SELECT count(*) FROM messages WHERE text LIKE '%old-words%'") == 1)
            #expect(try await stores.sql.int64("SELECT count(*) FROM attachments WHERE id = \(old.attachment)") == 0)
            #expect(try await stores.sql.int64("SELECT count(*) FROM attachments WHERE id = \(new.attachment)") == 1)
            #expect(try await stores.sql.int64("SELECT count(*) FROM jobs WHERE kind = 'media' AND subject_id = \(old.attachment)") == 0)
            // Other copies that old are gone too (all the fixture's are dated 0); pending alerts wait.
            #expect(try await stores.sql.int64("SELECT count(*) FROM webhook_deliveries") == 0)
            #expect(try await stores.sql.int64("SELECT count(*) FROM unreadable_events") == 0)
            #expect(try await stores.sql.int64("SELECT count(*) FROM notifications") == 2)
            // Done: a second run finds nothing; a later clock finds Nina's, one at a time with limit 1.
            #expect(try await stores.dataCare.applyRetention(now: now, limit: 100) == RetentionOutcome())
            try await stores.sql.execute("DELETE FROM outbox")
            let later = Date(ms: 16 * day)
            let first = try await stores.dataCare.applyRetention(now: later, limit: 1)
            #expect(first.messagesCleared == 1 && first.attachmentsDeleted == 1 && first.files == [new.file])
            #expect(try await stores.dataCare.applyRetention(now: later, limit: 1).messagesCleared == 1)
            #expect(try await stores.dataCare.applyRetention(now: later, limit: 1).messagesCleared == 1)
            #expect(try await stores.dataCare.applyRetention(now: later, limit: 1) == RetentionOutcome())
            #expect(try await stores.sql.int64("SELECT count(*) FROM messages WHERE text <> ''") == 0)
            if case .sqlite = stores.sql {
                try await stores.sql.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
                #expect(try await stores.sql.int64("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"words\"'") == 0)
            }
            // Back to keeping forever.
            try await stores.dataCare.setRetention(RetentionSettings(), at: later)
            #expect(try await stores.dataCare.retention() == RetentionSettings())
        }
    }

    @Test(arguments: StoreKind.available)
    func theAuditLogReadsBackNewestFirstAPageAtATime(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let entries = (1...3).map {
                NewAuditEntry(
                    at: Date(ms: Int64($0) * 1000), actorId: $0 == 3 ? nil : 7, actorName: "Olga", actorRole: "owner", method: "PUT",
                    route: "/api/v1/data/retention", targetId: $0 == 2 ? "42" : nil, summary: "messagesDays=\($0)", status: 200)
            }
            for entry in entries { try await stores.dataCare.recordAudit(entry) }
            let all = try await stores.dataCare.auditLog(limit: 10, before: nil)
            #expect(all.map { NewAuditEntry(at: $0.at, actorId: $0.actorId, actorName: $0.actorName, actorRole: $0.actorRole, method: $0.method, route: $0.route, targetId: $0.targetId, summary: $0.summary, status: $0.status) } == entries.reversed())
            let page = try await stores.dataCare.auditLog(limit: 2, before: nil)
            #expect(page.map(\.id) == Array(all.map(\.id).prefix(2)))
            #expect(try await stores.dataCare.auditLog(limit: 2, before: page.last!.id).map(\.id) == [all.last!.id])
        }
    }

    @Test(arguments: StoreKind.available)
    func healthFiguresComeFromTheDatabase(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let files = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: files) }
            let empty = try await stores.dataCare.systemStatus(errorLimit: 10)
            #expect(empty.queues == QueueDepths(outbox: 0, jobs: 0, alertDeliveries: 0, webhookDeliveries: 0, campaignRecipients: 0))
            #expect(empty.recentErrors.isEmpty && empty.databaseBytes > 0)
            let shared = try await Self.shared(stores.sql)
            let alice = try await Self.customer("alice", words: "w", shared, stores, files: files)
            try await stores.sql.execute("INSERT INTO campaign_recipients (campaign_id, contact_id, status, updated_at) VALUES (\(shared.campaign), 999, 'pending', 0)")
            try await stores.sql.execute("""
                UPDATE messages SET status = 'failed', failure_code = 'blocked', failure_reason = 'the user blocked the account', updated_at = 5000 WHERE id = \(alice.message)
                """)
            let status = try await stores.dataCare.systemStatus(errorLimit: 10)
            #expect(status.queues == QueueDepths(outbox: 1, jobs: 2, alertDeliveries: 1, webhookDeliveries: 0, campaignRecipients: 1))
            #expect(status.recentErrors == [
                RecentError(kind: "send_failed", at: Date(ms: 5000), account: "line/main", reason: "blocked: the user blocked the account", ticketId: alice.ticket),
                RecentError(kind: "unreadable_event", at: Date(ms: 0), account: "line/main", reason: "odd", ticketId: nil),
            ])
            #expect(try await stores.dataCare.systemStatus(errorLimit: 1).recentErrors.count == 1)
        }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
