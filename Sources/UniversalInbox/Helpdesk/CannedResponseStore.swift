import Foundation
import GRDB

/// Where canned responses are kept, and what their placeholders are filled from. One implementation
/// per database (`SQLiteCannedResponseStore` below, `PostgresCannedResponseStore` in PostgresStore),
/// held to one contract (Tests/StoreTests). Shortcuts and texts are checked, who sees which
/// response is decided (`CannedResponseScope`) and which of several is used is chosen by the
/// domain (`Inbox.renderCannedResponse`).
public protocol CannedResponseStore: Sendable {
    /// Adds a response. A department that does not exist is refused (`no_such_department`), as is a
    /// shortcut already used in the same place (`shortcut_taken`: same agent, or same department,
    /// or both global); nothing is added then.
    func add(shortcut: String, title: String, text: String, agentId: Int64?, departmentId: Int64?, at: Date) async throws -> CannedResponse

    /// The responses in `scope`, by shortcut and then age.
    func responses(in scope: CannedResponseScope) async throws -> [CannedResponse]

    /// One response, or nil.
    func response(id: Int64) async throws -> CannedResponse?

    /// Stores `response`'s shortcut, title, text and department under its id (its agent stays);
    /// false when there is no such response. Refused as `add` is, changing nothing: a department
    /// that does not exist (`no_such_department`), a shortcut another response has in the same
    /// place (`shortcut_taken`).
    func update(_ response: CannedResponse) async throws -> Bool

    /// Deletes a response; false when there was none.
    func delete(id: Int64) async throws -> Bool

    /// What a response used on a ticket is filled from, or nil when there is no such ticket: the
    /// ticket's department, and the values of `{{contact.name}}`, `{{contact.email}}`,
    /// `{{contact.field.KEY}}`, `{{ticket.id}}`, `{{ticket.field.KEY}}` and, for an agent,
    /// `{{agent.email}}` (the caller's name is the domain's).
    func templateContext(ticketId: Int64, agentId: Int64?) async throws -> TemplateContext?
}

/// Which canned responses a caller sees.
public enum CannedResponseScope: Sendable, Equatable {
    /// All of them, agents' own included (the admin token).
    case all
    /// The global ones, the departments' (every department's when `everyDepartment`) and the agent's own.
    case visible(agentId: Int64?, departments: [Int64], everyDepartment: Bool)

    /// What `actor` sees: owners and admins every department's, the admin token everything.
    public init(_ actor: Caller) {
        self = actor.managesSettings && actor.agentId == nil
            ? .all : .visible(agentId: actor.agentId, departments: actor.departments, everyDepartment: actor.managesSettings)
    }
}

/// A ticket as a canned response sees it (`CannedResponseStore.templateContext`).
public struct TemplateContext: Sendable, Equatable {
    public var departmentId: Int64?
    public var values: [String: String]

    public init(departmentId: Int64?, values: [String: String]) {
        self.departmentId = departmentId
        self.values = values
    }
}

extension InboxError {
    public static func noSuchDepartment(_ id: Int64) -> InboxError {
        .unprocessable(code: "no_such_department", message: "department \(id) does not exist")
    }

    public static func shortcutTaken(_ shortcut: String) -> InboxError {
        .conflict(code: "shortcut_taken", message: "#\(shortcut) already exists here")
    }
}

/// `CannedResponseStore` on SQLite.
public struct SQLiteCannedResponseStore: CannedResponseStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func add(shortcut: String, title: String, text: String, agentId: Int64?, departmentId: Int64?, at: Date) async throws -> CannedResponse {
        let id: Int64 = try await database.pool.write { db in
            if let departmentId, try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [departmentId]) == nil {
                throw InboxError.noSuchDepartment(departmentId)
            }
            if try Bool.fetchOne(db, sql: """
                SELECT 1 FROM canned_responses WHERE shortcut = ? AND coalesce(agent_id, 0) = ? AND coalesce(department_id, 0) = ?
                """, arguments: [shortcut, agentId ?? 0, departmentId ?? 0]) != nil {
                throw InboxError.shortcutTaken(shortcut)
            }
            try db.execute(sql: """
                INSERT INTO canned_responses (shortcut, title, text, agent_id, department_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [shortcut, title, text, agentId, departmentId, at.ms])
            return db.lastInsertedRowID
        }
        return CannedResponse(id: id, shortcut: shortcut, title: title, text: text, agentId: agentId, departmentId: departmentId)
    }

    public func responses(in scope: CannedResponseScope) async throws -> [CannedResponse] {
        let (condition, arguments): (String, StatementArguments) = switch scope {
        case .all: ("1", [])
        case .visible(let agentId, let departments, let everyDepartment):
            (
                "(agent_id IS NULL AND (department_id IS NULL OR department_id IN (\(departments.isEmpty ? "NULL" : departments.map(String.init).joined(separator: ","))) OR ?)) OR agent_id = ?",
                [everyDepartment, agentId ?? -1]
            )
        }
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM canned_responses WHERE \(condition) ORDER BY shortcut, id", arguments: arguments).map(Self.response)
        }
    }

    public func response(id: Int64) async throws -> CannedResponse? {
        try await database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM canned_responses WHERE id = ?", arguments: [id]).map(Self.response) }
    }

    public func update(_ response: CannedResponse) async throws -> Bool {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT agent_id FROM canned_responses WHERE id = ?", arguments: [response.id]) else { return false }
            let agentId: Int64? = row["agent_id"]
            if let departmentId = response.departmentId,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [departmentId]) == nil {
                throw InboxError.noSuchDepartment(departmentId)
            }
            if try Bool.fetchOne(db, sql: """
                SELECT 1 FROM canned_responses WHERE shortcut = ? AND coalesce(agent_id, 0) = ? AND coalesce(department_id, 0) = ? AND id <> ?
                """, arguments: [response.shortcut, agentId ?? 0, response.departmentId ?? 0, response.id]) != nil {
                throw InboxError.shortcutTaken(response.shortcut)
            }
            try db.execute(
                sql: "UPDATE canned_responses SET shortcut = ?, title = ?, text = ?, department_id = ? WHERE id = ?",
                arguments: [response.shortcut, response.title, response.text, response.departmentId, response.id])
            return true
        }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM canned_responses WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func templateContext(ticketId: Int64, agentId: Int64?) async throws -> TemplateContext? {
        try await database.pool.read { db in
            guard let ticket = try Row.fetchOne(db, sql: "SELECT contact_id, department_id FROM tickets WHERE id = ?", arguments: [ticketId]) else {
                return nil
            }
            var values = try Inbox.templateValues(db, ticketId: ticketId, contactId: ticket["contact_id"], actor: nil)
            if let agentId { values["agent.email"] = try String.fetchOne(db, sql: "SELECT email FROM agents WHERE id = ?", arguments: [agentId]) }
            return TemplateContext(departmentId: ticket["department_id"], values: values)
        }
    }

    private static func response(_ row: Row) -> CannedResponse {
        CannedResponse(id: row["id"], shortcut: row["shortcut"], title: row["title"], text: row["text"], agentId: row["agent_id"], departmentId: row["department_id"])
    }
}
