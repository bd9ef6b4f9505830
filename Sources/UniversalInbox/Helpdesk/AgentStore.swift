import Foundation
import GRDB

/// Where agents, their departments and their tokens are kept. One implementation per database
/// (`SQLiteAgentStore` below, `PostgresAgentStore` in PostgresStore), held to one contract
/// (Tests/StoreTests). Names, e-mail addresses and limits are checked, who may manage whom is
/// decided (`AgentPolicy`) and changes are announced on the bus by the domain (`Inbox`); a store
/// keeps the rules that need the rows themselves: unique e-mail addresses and department names,
/// at least one active owner, restrictions only on agents.
public protocol AgentStore: Sendable {
    /// Adds an agent and returns its id. An e-mail address in use in any case is refused
    /// (`email_taken`), as is a department that does not exist (`no_such_department`). The first
    /// agent starts the alerts feed at the log's head: nothing before it is news to anyone.
    func create(_ new: NewAgent, at: Date) async throws -> Int64

    /// Applies `changes` all or nothing: a missing agent is `notFound`, demoting the last active
    /// owner `last_owner`, a restriction on an owner or admin `restrictions_are_for_agents`, an
    /// unknown department `no_such_department`. A new password ends every token of the agent but
    /// `keepingToken` (a digest).
    func update(id: Int64, _ changes: AgentChanges, keepingToken: String?, at: Date) async throws

    func agent(id: Int64) async throws -> Agent?

    /// Every agent, deactivated ones too, by id.
    func agents() async throws -> [Agent]

    /// The agent with this e-mail (in any case) and its password hash, if it has one.
    func credentials(email: String) async throws -> (agent: Agent, passwordHash: String)?

    /// Keeps a token's digest and returns its id; drops the agent's expired tokens on the way. A
    /// missing agent is `notFound`, a deactivated one `agent_deactivated`.
    func addToken(digest: String, agentId: Int64, kind: String, label: String?, expiresAt: Date?, at: Date) async throws -> Int64

    /// The active agent holding an unexpired token with this digest.
    func agent(tokenDigest: String, at: Date) async throws -> Agent?

    /// The agent's unexpired tokens, oldest first; a missing agent is `notFound`.
    func tokens(agentId: Int64, at: Date) async throws -> [AgentToken]

    /// Deletes the token with this digest and returns whose it was.
    func deleteToken(digest: String) async throws -> Int64?

    /// Deletes one of the agent's tokens; false when the agent has no such token.
    func deleteToken(id: Int64, agentId: Int64) async throws -> Bool

    /// Deletes every token of the agent and returns how many; a missing agent is `notFound`.
    func deleteTokens(agentId: Int64) async throws -> Int

    /// Deactivates an agent in one transaction: offline, no tokens, no pending alerts, and its
    /// tickets in progress back in their queue, each with a `transferred` history entry by `actor`.
    /// Returns those tickets, or nil when it was already deactivated (nothing changes). A missing
    /// agent is `notFound`; the last active owner `last_owner`.
    func deactivate(id: Int64, by actor: String, at: Date) async throws -> [Int64]?

    /// Lets a deactivated agent back in, offline; an active one is left as it is. A missing agent is `notFound`.
    func reactivate(id: Int64, at: Date) async throws

    /// Keeps a one-time invitation's digest for the agent until `expiresAt`, in place of any earlier
    /// one (a new link replaces the old). A missing agent is `notFound`, a deactivated one `agent_deactivated`.
    func addInvite(digest: String, agentId: Int64, expiresAt: Date, at: Date) async throws

    /// The active agent an unexpired invitation with this digest is for (nothing changes).
    func inviteAgent(digest: String, at: Date) async throws -> Int64?

    /// Uses the invitation once, in one transaction: deletes it (unexpired, for an active agent),
    /// sets the agent's password hash and ends every token of the agent. Returns the agent's id,
    /// or nil when there was no such invitation (used, expired, replaced) and nothing changed.
    func useInvite(digest: String, passwordHash: String, at: Date) async throws -> Int64?

    /// Adds a department; a name in use in any case is refused (`name_taken`).
    func createDepartment(name: String, at: Date) async throws -> Department

    /// Every department with its members, the channel accounts routed to it and whether it has
    /// business hours of its own, by id.
    func departments() async throws -> [Department]

    /// Sends `account`'s (`kind/id`) new tickets to `departmentId`, in place of any other
    /// department, or to none (nil). An unknown department is `no_such_department` and nothing changes.
    func routeAccount(_ account: String, toDepartment departmentId: Int64?, at: Date) async throws
}

extension InboxError {
    public static func emailTaken(_ email: String) -> InboxError {
        .conflict(code: "email_taken", message: "an agent with e-mail \(email) already exists")
    }
    public static let lastOwnerDemoted = InboxError.conflict(code: "last_owner", message: "the last owner cannot be demoted")
    public static let lastOwnerDeactivated = InboxError.conflict(code: "last_owner", message: "the last owner cannot be deactivated")
    public static let restrictionsAreForAgents = InboxError.unprocessable(
        code: "restrictions_are_for_agents",
        message: "departmentsOnly and answerAssignedOnly restrict agents; an owner or admin works across every department (clear them to change the role)")
    public static func agentDeactivated(_ id: Int64) -> InboxError {
        .conflict(code: "agent_deactivated", message: "agent \(id) is deactivated; reactivate it first")
    }
    public static func departmentNameTaken(_ name: String) -> InboxError {
        .conflict(code: "name_taken", message: "a department named \(name) already exists")
    }
    public static func agentNotFound(_ id: Int64) -> InboxError { .notFound("agent \(id)") }
}

extension AgentChanges {
    /// Whether the agent's restrictions come out on an owner or admin: they are for agents only
    /// (an owner or admin manages agents and settings across every department, so a "restricted
    /// admin" could lift its own restriction or mint a wider agent).
    public static func restrictsAManager(role: AgentRole, departmentsOnly: Bool, answerAssignedOnly: Bool) -> Bool {
        role != .agent && (departmentsOnly || answerAssignedOnly)
    }
}

/// What deactivating an agent writes in each of its tickets' history (a `transferred` entry).
public enum AgentDeactivation {
    /// The entry's detail, as stored (JSON).
    public static func historyDetail(agentId: Int64) throws -> String {
        try ContentCoding.encode(["fromAgentId": String(agentId), "note": "agent deactivated"])
    }
}

/// `AgentStore` on SQLite, whose single writer makes each check-then-write safe.
public struct SQLiteAgentStore: AgentStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func create(_ new: NewAgent, at: Date) async throws -> Int64 {
        try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM agents LIMIT 1") == nil {
                try Inbox.moveFeedToNow(db, "notify")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM agents WHERE email = ?", arguments: [new.email]) != nil {
                throw InboxError.emailTaken(new.email)
            }
            try db.execute(sql: """
                INSERT INTO agents (email, name, role, password_hash, max_tickets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [new.email, new.name, new.role.rawValue, new.passwordHash, new.maxTickets, at.ms, at.ms])
            let id = db.lastInsertedRowID
            try Self.setDepartments(db, agentId: id, new.departments)
            return id
        }
    }

    public func update(id: Int64, _ changes: AgentChanges, keepingToken: String?, at: Date) async throws {
        try await database.pool.write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT role FROM agents WHERE id = ?", arguments: [id]) else {
                throw InboxError.agentNotFound(id)
            }
            if current["role"] == AgentRole.owner.rawValue, let role = changes.role, role != .owner,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM agents WHERE role = 'owner' AND deactivated_at IS NULL") == 1
            {
                throw InboxError.lastOwnerDemoted
            }
            let columns: [(String, (any DatabaseValueConvertible)?)] = [
                ("name", changes.name), ("role", changes.role?.rawValue), ("availability", changes.availability?.rawValue),
                ("max_tickets", changes.maxTickets), ("distribution_paused", changes.distributionPaused),
                ("departments_only", changes.departmentsOnly), ("answer_assigned_only", changes.answerAssignedOnly),
                ("password_hash", changes.passwordHash),
            ]
            for (column, value) in columns {
                guard let value else { continue }
                try db.execute(sql: "UPDATE agents SET \(column) = ?, updated_at = ? WHERE id = ?", arguments: [value, at.ms, id])
            }
            if let departments = changes.departments { try Self.setDepartments(db, agentId: id, departments) }
            if let row = try Row.fetchOne(db, sql: "SELECT role, departments_only, answer_assigned_only FROM agents WHERE id = ?", arguments: [id]),
                AgentChanges.restrictsAManager(
                    role: try row.decode("role", as: AgentRole.self), departmentsOnly: row["departments_only"], answerAssignedOnly: row["answer_assigned_only"])
            {
                throw InboxError.restrictionsAreForAgents
            }
            if changes.passwordHash != nil {
                try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ? AND token_hash IS NOT ?", arguments: [id, keepingToken])
            }
            // A link made for the agent as they were is void once their role or password changes
            // (an admin's link must not set a password for someone since made an owner).
            if changes.passwordHash != nil || changes.role != nil {
                try db.execute(sql: "DELETE FROM agent_invites WHERE agent_id = ?", arguments: [id])
            }
        }
    }

    public func agent(id: Int64) async throws -> Agent? {
        try await database.pool.read { db in try Self.agents(db, where: "a.id = ?", [id]).first }
    }

    public func agents() async throws -> [Agent] {
        try await database.pool.read { db in try Self.agents(db, where: "1", []) }
    }

    public func credentials(email: String) async throws -> (agent: Agent, passwordHash: String)? {
        try await database.pool.read { db in
            guard let agent = try Self.agents(db, where: "a.email = ?", [email]).first,
                let hash = try String.fetchOne(db, sql: "SELECT password_hash FROM agents WHERE id = ?", arguments: [agent.id])
            else { return nil }
            return (agent, hash)
        }
    }

    public func addToken(digest: String, agentId: Int64, kind: String, label: String?, expiresAt: Date?, at: Date) async throws -> Int64 {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT deactivated_at FROM agents WHERE id = ?", arguments: [agentId]) else {
                throw InboxError.agentNotFound(agentId)
            }
            guard row["deactivated_at"] as Int64? == nil else { throw InboxError.agentDeactivated(agentId) }
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ? AND expires_at <= ?", arguments: [agentId, at.ms])
            try db.execute(
                sql: "INSERT INTO agent_tokens (token_hash, agent_id, kind, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [digest, agentId, kind, label, at.ms, expiresAt?.ms])
            return db.lastInsertedRowID
        }
    }

    public func agent(tokenDigest: String, at: Date) async throws -> Agent? {
        try await database.pool.read { db in
            guard
                let agentId = try Int64.fetchOne(
                    db, sql: """
                        SELECT t.agent_id FROM agent_tokens t JOIN agents a ON a.id = t.agent_id
                        WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?) AND a.deactivated_at IS NULL
                        """,
                    arguments: [tokenDigest, at.ms])
            else { return nil }
            return try Self.agents(db, where: "a.id = ?", [agentId]).first
        }
    }

    public func tokens(agentId: Int64, at: Date) async throws -> [AgentToken] {
        try await database.pool.read { db in
            try Self.requireAgent(db, agentId)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM agent_tokens WHERE agent_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id", arguments: [agentId, at.ms]
            ).map { row in
                AgentToken(
                    id: row["id"], agentId: row["agent_id"], kind: row["kind"], label: row["label"], createdAt: Date(ms: row["created_at"]),
                    expiresAt: (row["expires_at"] as Int64?).map(Date.init(ms:)))
            }
        }
    }

    public func deleteToken(digest: String) async throws -> Int64? {
        try await database.pool.write { db in
            let agentId = try Int64.fetchOne(db, sql: "SELECT agent_id FROM agent_tokens WHERE token_hash = ?", arguments: [digest])
            try db.execute(sql: "DELETE FROM agent_tokens WHERE token_hash = ?", arguments: [digest])
            return agentId
        }
    }

    public func deleteToken(id: Int64, agentId: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM agent_tokens WHERE id = ? AND agent_id = ?", arguments: [id, agentId])
            return db.changesCount == 1
        }
    }

    public func deleteTokens(agentId: Int64) async throws -> Int {
        try await database.pool.write { db in
            try Self.requireAgent(db, agentId)
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ?", arguments: [agentId])
            return db.changesCount
        }
    }

    public func deactivate(id: Int64, by actor: String, at: Date) async throws -> [Int64]? {
        let now = at.ms
        return try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT role, deactivated_at FROM agents WHERE id = ?", arguments: [id]) else {
                throw InboxError.agentNotFound(id)
            }
            guard row["deactivated_at"] as Int64? == nil else { return nil }
            if row["role"] == AgentRole.owner.rawValue,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM agents WHERE role = 'owner' AND deactivated_at IS NULL") == 1
            {
                throw InboxError.lastOwnerDeactivated
            }
            try db.execute(
                sql: "UPDATE agents SET deactivated_at = ?, availability = 'offline', updated_at = ? WHERE id = ?", arguments: [now, now, id])
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM agent_invites WHERE agent_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM notifications WHERE agent_id = ? AND status = 'pending'", arguments: [id])
            let tickets = try Int64.fetchAll(
                db, sql: "SELECT id FROM tickets WHERE agent_id = ? AND status IN ('new', 'open', 'pending') ORDER BY id", arguments: [id])
            for ticketId in tickets {
                try db.execute(
                    sql: "UPDATE tickets SET agent_id = NULL, assignee = NULL, queued_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, ticketId])
                try db.execute(
                    sql: "INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at) VALUES (?, 'transferred', ?, ?, ?)",
                    arguments: [ticketId, actor, try AgentDeactivation.historyDetail(agentId: id), now])
            }
            return tickets
        }
    }

    public func reactivate(id: Int64, at: Date) async throws {
        try await database.pool.write { db in
            try Self.requireAgent(db, id)
            try db.execute(
                sql: "UPDATE agents SET deactivated_at = NULL, availability = 'offline', updated_at = ? WHERE id = ? AND deactivated_at IS NOT NULL",
                arguments: [at.ms, id])
        }
    }

    public func createDepartment(name: String, at: Date) async throws -> Department {
        let id: Int64 = try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE name = ?", arguments: [name]) != nil {
                throw InboxError.departmentNameTaken(name)
            }
            try db.execute(sql: "INSERT INTO departments (name, created_at) VALUES (?, ?)", arguments: [name, at.ms])
            return db.lastInsertedRowID
        }
        return Department(id: id, name: name, members: [])
    }

    public func departments() async throws -> [Department] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM departments ORDER BY id").map { row in
                Department(
                    id: row["id"], name: row["name"],
                    members: try Int64.fetchAll(db, sql: "SELECT agent_id FROM department_members WHERE department_id = ? ORDER BY agent_id", arguments: [row["id"] as Int64]),
                    accounts: try String.fetchAll(db, sql: "SELECT account FROM account_departments WHERE department_id = ? ORDER BY account", arguments: [row["id"] as Int64]),
                    ownHours: try Bool.fetchOne(db, sql: "SELECT 1 FROM business_hours WHERE department_id = ?", arguments: [row["id"] as Int64]) != nil)
            }
        }
    }

    static func agents(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [Agent] {
        try Row.fetchAll(db, sql: """
            SELECT a.*, (SELECT count(*) FROM tickets t WHERE t.agent_id = a.id AND t.status IN ('new', 'open')) AS active
            FROM agents a WHERE \(condition) ORDER BY a.id
            """, arguments: arguments
        ).map { row in
            let id: Int64 = row["id"]
            return Agent(
                id: id, email: row["email"], name: row["name"], role: try row.decode("role", as: AgentRole.self),
                availability: try row.decode("availability", as: Availability.self), maxTickets: row["max_tickets"],
                distributionPaused: row["distribution_paused"], departmentsOnly: row["departments_only"],
                answerAssignedOnly: row["answer_assigned_only"],
                departments: try Int64.fetchAll(
                    db.cachedStatement(sql: "SELECT department_id FROM department_members WHERE agent_id = ? ORDER BY department_id"), arguments: [id]),
                activeTickets: row["active"], hasPassword: row["password_hash"] as String? != nil, active: row["deactivated_at"] as Int64? == nil)
        }
    }

    static func setDepartments(_ db: Database, agentId: Int64, _ departments: [Int64]) throws {
        try db.execute(sql: "DELETE FROM department_members WHERE agent_id = ?", arguments: [agentId])
        for department in Set(departments) {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [department]) != nil else {
                throw InboxError.noSuchDepartment(department)
            }
            try db.execute(sql: "INSERT INTO department_members (department_id, agent_id) VALUES (?, ?)", arguments: [department, agentId])
        }
    }

    private static func requireAgent(_ db: Database, _ id: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM agents WHERE id = ?", arguments: [id]) != nil else { throw InboxError.agentNotFound(id) }
    }
}
