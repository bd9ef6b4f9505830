import Foundation
import GRDB

/// What an agent may do: owners and admins manage settings; agents work tickets.
public enum AgentRole: String, Sendable, Codable, CaseIterable {
    case owner, admin, agent
}

/// Whether automatic distribution may hand an agent new tickets (`online` only).
public enum Availability: String, Sendable, Codable, CaseIterable {
    case online
    case onBreak = "break"
    case offline
}

/// A person who works the inbox.
public struct Agent: Sendable, Equatable, Codable {
    public var id: Int64
    public var email: String
    public var name: String
    public var role: AgentRole
    public var availability: Availability
    /// Most tickets (new or open) assigned at once; distribution stops there.
    public var maxTickets: Int
    public var distributionPaused: Bool
    /// Sees only tickets of its departments (and tickets assigned to it).
    public var departmentsOnly: Bool
    /// Answers only tickets assigned to it.
    public var answerAssignedOnly: Bool
    public var departments: [Int64]
    /// Tickets (new or open) assigned now.
    public var activeTickets: Int
    public var hasPassword: Bool
    /// False once deactivated: kept for history, out of distribution, no logins or tokens.
    public var active: Bool
}

/// A new agent; the password arrives already hashed (bcrypt) so the domain never sees it.
public struct NewAgent: Sendable {
    public var email: String
    public var name: String
    public var role: AgentRole
    public var passwordHash: String?
    public var maxTickets: Int
    public var departments: [Int64]

    public init(email: String, name: String, role: AgentRole, passwordHash: String? = nil, maxTickets: Int = 5, departments: [Int64] = []) {
        self.email = email
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.maxTickets = maxTickets
        self.departments = departments
    }
}

/// Changes to an agent; `nil` leaves a field as it is.
public struct AgentChanges: Sendable, Equatable {
    public var name: String?
    public var role: AgentRole?
    public var availability: Availability?
    public var maxTickets: Int?
    public var distributionPaused: Bool?
    public var departmentsOnly: Bool?
    public var answerAssignedOnly: Bool?
    public var departments: [Int64]?
    public var passwordHash: String?

    public init() {}

    /// Fields only an owner or admin may change (an agent may change the rest on itself).
    public var touchesSettings: Bool {
        role != nil || maxTickets != nil || departmentsOnly != nil || answerAssignedOnly != nil || departments != nil
    }
}

/// A group of agents; tickets can be routed to one.
public struct Department: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var members: [Int64]
}

/// Who performs an operation: an agent, the bridge's admin token (an owner with no agent row), or the
/// bridge itself (`system`). Named `Caller`, not `Actor`, which is Swift's own protocol.
public struct Caller: Sendable, Equatable {
    public var agentId: Int64?
    public var name: String
    public var role: AgentRole
    public var departmentsOnly: Bool
    public var answerAssignedOnly: Bool
    public var departments: [Int64]

    public init(
        agentId: Int64?, name: String, role: AgentRole, departmentsOnly: Bool = false, answerAssignedOnly: Bool = false, departments: [Int64] = []
    ) {
        self.agentId = agentId
        self.name = name
        self.role = role
        self.departmentsOnly = departmentsOnly
        self.answerAssignedOnly = answerAssignedOnly
        self.departments = departments
    }

    /// The admin API token: may do everything.
    public static let adminToken = Caller(agentId: nil, name: "admin token", role: .owner)
    /// The bridge itself (automatic distribution, rules).
    public static let system = Caller(agentId: nil, name: "system", role: .owner)

    public var managesSettings: Bool { role != .agent }

    /// How the actor is written in a ticket's history.
    public var label: String { agentId.map { "agent:\($0)" } ?? name }

    init(_ agent: Agent) {
        self.init(
            agentId: agent.id, name: agent.name, role: agent.role, departmentsOnly: agent.departmentsOnly,
            answerAssignedOnly: agent.answerAssignedOnly, departments: agent.departments)
    }
}

extension Inbox {
    /// Adds an agent. An e-mail address already in use is a conflict.
    public func createAgent(_ new: NewAgent) async throws -> Agent {
        try Self.validate(email: new.email, name: new.name, maxTickets: new.maxTickets)
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM agents LIMIT 1") == nil {
                // Alerts start with the first agent: nothing before is news to anyone.
                try Self.moveFeedToNow(db, "notify")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM agents WHERE email = ?", arguments: [new.email]) != nil {
                throw InboxError.conflict(code: "email_taken", message: "an agent with e-mail \(new.email) already exists")
            }
            try db.execute(sql: """
                INSERT INTO agents (email, name, role, password_hash, max_tickets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [new.email, new.name, new.role.rawValue, new.passwordHash, new.maxTickets, now, now])
            let id = db.lastInsertedRowID
            try Self.setDepartments(db, agentId: id, new.departments)
            return id
        }
        guard let agent = try await agent(id: id) else { throw InboxError.notFound("agent \(id)") }
        return agent
    }

    /// Applies `changes`. Going online, resuming distribution or raising the maximum may hand out
    /// queued tickets: `agentAvailable` is published. A new password ends every token of the agent
    /// except `keepingToken` (the digest of the token the agent changed its own password with), in
    /// the same transaction, so a token minted with a stolen password does not outlive it.
    public func updateAgent(id: Int64, _ changes: AgentChanges, keepingToken: String? = nil) async throws -> Agent {
        if let name = changes.name, !TextRules.isName(name, maxLength: 100) {
            throw InboxError.invalid(code: "invalid_name", message: "name must be 1 to 100 characters, not all blank")
        }
        if let max = changes.maxTickets, !(0...500).contains(max) {
            throw InboxError.invalid(code: "invalid_max_tickets", message: "maxTickets must be 0 to 500")
        }
        let now = clock().ms
        try await database.pool.write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT role FROM agents WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("agent \(id)")
            }
            if current["role"] == AgentRole.owner.rawValue, let role = changes.role, role != .owner,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM agents WHERE role = 'owner' AND deactivated_at IS NULL") == 1
            {
                throw InboxError.conflict(code: "last_owner", message: "the last owner cannot be demoted")
            }
            let columns: [(String, (any DatabaseValueConvertible)?)] = [
                ("name", changes.name), ("role", changes.role?.rawValue), ("availability", changes.availability?.rawValue),
                ("max_tickets", changes.maxTickets), ("distribution_paused", changes.distributionPaused),
                ("departments_only", changes.departmentsOnly), ("answer_assigned_only", changes.answerAssignedOnly),
                ("password_hash", changes.passwordHash),
            ]
            for (column, value) in columns {
                guard let value else { continue }
                try db.execute(sql: "UPDATE agents SET \(column) = ?, updated_at = ? WHERE id = ?", arguments: [value, now, id])
            }
            if let departments = changes.departments { try Self.setDepartments(db, agentId: id, departments) }
            // Restrictions are for agents: an owner or admin manages agents and settings across every
            // department, so a "restricted admin" could lift its own restriction or mint a wider agent.
            if let row = try Row.fetchOne(db, sql: "SELECT role, departments_only, answer_assigned_only FROM agents WHERE id = ?", arguments: [id]),
                (row["role"] as String) != AgentRole.agent.rawValue, (row["departments_only"] as Bool) || (row["answer_assigned_only"] as Bool)
            {
                throw InboxError.unprocessable(
                    code: "restrictions_are_for_agents",
                    message: "departmentsOnly and answerAssignedOnly restrict agents; an owner or admin works across every department (clear them to change the role)")
            }
            if changes.passwordHash != nil {
                try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ? AND token_hash IS NOT ?", arguments: [id, keepingToken])
            }
        }
        let accessChanged = changes.passwordHash != nil || changes.role != nil || changes.departmentsOnly != nil || changes.answerAssignedOnly != nil
            || changes.departments != nil
        bus.publish([.agentAvailable(agentId: id)] + (accessChanged ? [.agentAccessChanged(agentId: id)] : []))
        guard let agent = try await agent(id: id) else { throw InboxError.notFound("agent \(id)") }
        return agent
    }

    public func agent(id: Int64) async throws -> Agent? {
        try await database.pool.read { db in try Self.agents(db, where: "a.id = ?", [id]).first }
    }

    public func agents() async throws -> [Agent] {
        try await database.pool.read { db in try Self.agents(db, where: "1", []) }
    }

    /// The agent with this e-mail and its password hash, for a login.
    public func credentials(email: String) async throws -> (agent: Agent, passwordHash: String)? {
        try await database.pool.read { db in
            guard let agent = try Self.agents(db, where: "a.email = ?", [email]).first,
                let hash = try String.fetchOne(db, sql: "SELECT password_hash FROM agents WHERE id = ?", arguments: [agent.id])
            else { return nil }
            return (agent, hash)
        }
    }

    /// Keeps a token's digest for `agentId`; `expiresAt` nil means until revoked. A deactivated
    /// agent gets no tokens (409 `agent_deactivated`). Returns the token's id.
    @discardableResult
    public func storeToken(digest: String, agentId: Int64, kind: String, label: String?, expiresAt: Date?) async throws -> Int64 {
        let now = clock().ms
        return try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT deactivated_at FROM agents WHERE id = ?", arguments: [agentId]) else {
                throw InboxError.notFound("agent \(agentId)")
            }
            guard row["deactivated_at"] as Int64? == nil else {
                throw InboxError.conflict(code: "agent_deactivated", message: "agent \(agentId) is deactivated; reactivate it first")
            }
            // Expired login tokens are of no use to anyone.
            try db.execute(sql: "DELETE FROM agent_tokens WHERE agent_id = ? AND expires_at <= ?", arguments: [agentId, now])
            try db.execute(
                sql: "INSERT INTO agent_tokens (token_hash, agent_id, kind, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [digest, agentId, kind, label, now, expiresAt?.ms])
            return db.lastInsertedRowID
        }
    }

    /// Removes a token (a logout); a live socket opened with it closes.
    public func revokeToken(digest: String) async throws {
        let agentId: Int64? = try await database.pool.write { db in
            let agentId = try Int64.fetchOne(db, sql: "SELECT agent_id FROM agent_tokens WHERE token_hash = ?", arguments: [digest])
            try db.execute(sql: "DELETE FROM agent_tokens WHERE token_hash = ?", arguments: [digest])
            return agentId
        }
        if let agentId { bus.publish([.agentAccessChanged(agentId: agentId)]) }
    }

    /// Who holds the token with this digest, if it exists, has not expired and its agent is active.
    public func actor(tokenDigest: String) async throws -> Caller? {
        let now = clock().ms
        return try await database.pool.read { db in
            guard
                let agentId = try Int64.fetchOne(
                    db, sql: """
                        SELECT t.agent_id FROM agent_tokens t JOIN agents a ON a.id = t.agent_id
                        WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?) AND a.deactivated_at IS NULL
                        """,
                    arguments: [tokenDigest, now]),
                let agent = try Self.agents(db, where: "a.id = ?", [agentId]).first
            else { return nil }
            return Caller(agent)
        }
    }

    public func createDepartment(name: String) async throws -> Department {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard TextRules.isName(name, maxLength: 100) else {
            throw InboxError.invalid(code: "invalid_name", message: "a department needs a name of 1 to 100 characters, not all blank")
        }
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE name = ?", arguments: [name]) != nil {
                throw InboxError.conflict(code: "name_taken", message: "a department named \(name) already exists")
            }
            try db.execute(sql: "INSERT INTO departments (name, created_at) VALUES (?, ?)", arguments: [name, now])
            return db.lastInsertedRowID
        }
        return Department(id: id, name: name, members: [])
    }

    public func departments() async throws -> [Department] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM departments ORDER BY id").map { row in
                Department(
                    id: row["id"], name: row["name"],
                    members: try Int64.fetchAll(db, sql: "SELECT agent_id FROM department_members WHERE department_id = ? ORDER BY agent_id", arguments: [row["id"] as Int64]))
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
                throw InboxError.unprocessable(code: "no_such_department", message: "department \(department) does not exist")
            }
            try db.execute(sql: "INSERT INTO department_members (department_id, agent_id) VALUES (?, ?)", arguments: [department, agentId])
        }
    }

    static func validate(email: String, name: String, maxTickets: Int) throws {
        guard TextRules.isEmail(email) else {
            throw InboxError.invalid(code: "invalid_email", message: "\(email) is not an e-mail address")
        }
        guard TextRules.isName(name, maxLength: 100) else {
            throw InboxError.invalid(code: "invalid_name", message: "name must be 1 to 100 characters, not all blank")
        }
        guard (0...500).contains(maxTickets) else { throw InboxError.invalid(code: "invalid_max_tickets", message: "maxTickets must be 0 to 500") }
    }
}
