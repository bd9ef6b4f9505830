import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `CannedResponseStore` on PostgreSQL. A taken shortcut is found by the unique index
/// (`canned_responses_scope`) and a missing department by the insert's own check, in one
/// statement, so two processes adding the same shortcut at once cannot both succeed.
public struct PostgresCannedResponseStore: CannedResponseStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func add(shortcut: String, title: String, text: String, agentId: Int64?, departmentId: Int64?, at: Date) async throws -> CannedResponse {
        // The department's existence decides first, as on SQLite: a shortcut clash in a department
        // that does not exist is still `no_such_department`.
        let rows = try await client.query("""
            WITH department AS (SELECT \(departmentId)::bigint IS NULL OR EXISTS (SELECT 1 FROM departments WHERE id = \(departmentId)) AS exists),
            added AS (
                INSERT INTO canned_responses (shortcut, title, text, agent_id, department_id, created_at)
                SELECT \(shortcut), \(title), \(text), \(agentId), \(departmentId), \(at.ms) FROM department WHERE exists
                ON CONFLICT (shortcut, coalesce(agent_id, 0), coalesce(department_id, 0)) DO NOTHING RETURNING id)
            SELECT (SELECT exists FROM department), (SELECT id FROM added)
            """, logger: logger)
        for try await (departmentExists, id) in rows.decode((Bool, Int64?).self) {
            guard departmentExists else { throw InboxError.noSuchDepartment(departmentId ?? 0) }
            guard let id else { throw InboxError.shortcutTaken(shortcut) }
            return CannedResponse(id: id, shortcut: shortcut, title: title, text: text, agentId: agentId, departmentId: departmentId)
        }
        preconditionFailure("a SELECT without FROM returns one row")
    }

    public func responses(in scope: CannedResponseScope) async throws -> [CannedResponse] {
        switch scope {
        case .all:
            return try await fetch("SELECT \(unescaped: Self.columns) FROM canned_responses ORDER BY shortcut COLLATE \"C\", id")
        case .visible(let agentId, let departments, let everyDepartment):
            return try await fetch("""
                SELECT \(unescaped: Self.columns) FROM canned_responses
                WHERE (agent_id IS NULL AND (department_id IS NULL OR department_id = ANY(\(departments)) OR \(everyDepartment))) OR agent_id = \(agentId ?? -1)
                ORDER BY shortcut COLLATE "C", id
                """)
        }
    }

    public func response(id: Int64) async throws -> CannedResponse? {
        try await fetch("SELECT \(unescaped: Self.columns) FROM canned_responses WHERE id = \(id)").first
    }

    public func update(_ response: CannedResponse) async throws -> Bool {
        // One statement, checks in `add`'s order; a clash the check could not see yet (another
        // process's insert committing meanwhile) is the unique index's violation, told the same way.
        let rows: [(Bool, Bool, Bool, Int64?)]
        do {
            rows = try await client.query("""
                WITH target AS (SELECT agent_id FROM canned_responses WHERE id = \(response.id)),
                department AS (SELECT \(response.departmentId)::bigint IS NULL OR EXISTS (SELECT 1 FROM departments WHERE id = \(response.departmentId)) AS exists),
                taken AS (SELECT EXISTS (
                    SELECT 1 FROM canned_responses c, target WHERE c.shortcut = \(response.shortcut) AND coalesce(c.agent_id, 0) = coalesce(target.agent_id, 0)
                      AND coalesce(c.department_id, 0) = coalesce(\(response.departmentId)::bigint, 0) AND c.id <> \(response.id)) AS taken),
                updated AS (
                    UPDATE canned_responses SET shortcut = \(response.shortcut), title = \(response.title), text = \(response.text), department_id = \(response.departmentId)
                    WHERE id = \(response.id) AND (SELECT exists FROM department) AND NOT (SELECT taken FROM taken) RETURNING id)
                SELECT EXISTS (SELECT 1 FROM target), (SELECT exists FROM department), (SELECT taken FROM taken), (SELECT id FROM updated)
                """, logger: logger).decode((Bool, Bool, Bool, Int64?).self).all()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw InboxError.shortcutTaken(response.shortcut)
        }
        guard let (found, departmentExists, taken, _) = rows.first, found else { return false }
        guard departmentExists else { throw InboxError.noSuchDepartment(response.departmentId ?? 0) }
        guard !taken else { throw InboxError.shortcutTaken(response.shortcut) }
        return true
    }

    public func delete(id: Int64) async throws -> Bool {
        try await client.query("DELETE FROM canned_responses WHERE id = \(id) RETURNING id", logger: logger).decode(Int64.self).all().count == 1
    }

    public func templateContext(ticketId: Int64, agentId: Int64?) async throws -> TemplateContext? {
        // One snapshot, so the ticket, its contact and the fields are read as of one moment.
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let tickets = try await connection.query("""
                SELECT t.department_id, c.id, c.display_name, c.email FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = \(ticketId)
                """, logger: logger).decode((Int64?, Int64, String?, String?).self).all()
            guard let (departmentId, contactId, name, email) = tickets.first else { return nil }
            var values = ["ticket.id": String(ticketId)]
            values["contact.name"] = name
            values["contact.email"] = email
            let fields = try await connection.query("""
                SELECT 'contact.field.' || f.key, v.value FROM contact_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.contact_id = \(contactId)
                UNION ALL
                SELECT 'ticket.field.' || f.key, v.value FROM ticket_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.ticket_id = \(ticketId)
                """, logger: logger)
            for try await (key, value) in fields.decode((String, String).self) { values[key] = value }
            if let agentId {
                for try await email in try await connection.query("SELECT email FROM agents WHERE id = \(agentId)", logger: logger).decode(String.self) {
                    values["agent.email"] = email
                }
            }
            return TemplateContext(departmentId: departmentId, values: values)
        }
    }

    private static let columns = "id, shortcut, title, text, agent_id, department_id"

    private func fetch(_ query: PostgresQuery) async throws -> [CannedResponse] {
        try await client.query(query, logger: logger).decode((Int64, String, String, String, Int64?, Int64?).self).all().map {
            CannedResponse(id: $0.0, shortcut: $0.1, title: $0.2, text: $0.3, agentId: $0.4, departmentId: $0.5)
        }
    }
}
