import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `AgentStore` on PostgreSQL. Unique e-mail addresses and department names are the unique indexes'
/// (`lower(...)`), so two processes cannot both add one. The last-owner rule locks every active
/// owner's row before it counts them, so two processes demoting or deactivating two different
/// owners at once cannot leave none.
public struct PostgresAgentStore: AgentStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(_ new: NewAgent, at: Date) async throws -> Int64 {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("""
                UPDATE feed_cursors SET last_id = (SELECT seq FROM event_seq)
                WHERE name = 'notify.log' AND NOT EXISTS (SELECT 1 FROM agents)
                """, logger: logger)
            let ids = try await connection.query("""
                INSERT INTO agents (email, name, role, password_hash, max_tickets, created_at, updated_at)
                VALUES (\(new.email), \(new.name), \(new.role.rawValue), \(new.passwordHash), \(new.maxTickets), \(at.ms), \(at.ms))
                ON CONFLICT ((lower(email))) DO NOTHING RETURNING id
                """, logger: logger).decode(Int64.self).all()
            guard let id = ids.first else { throw InboxError.emailTaken(new.email) }
            try await Self.setDepartments(connection, agentId: id, new.departments, logger: logger)
            return id
        }
    }

    public func update(id: Int64, _ changes: AgentChanges, keepingToken: String?, at: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            // The owners first (in id order, as `deactivate` does), then the agent: one lock order, no deadlock.
            let owners = changes.role == nil ? nil : try await Self.activeOwners(connection, logger: logger)
            let roles = try await connection.query("SELECT role FROM agents WHERE id = \(id) FOR UPDATE", logger: logger).decode(String.self).all()
            guard let role = roles.first else { throw InboxError.agentNotFound(id) }
            if role == AgentRole.owner.rawValue, let newRole = changes.role, newRole != .owner, owners == 1 {
                throw InboxError.lastOwnerDemoted
            }
            let flag = { (value: Bool?) in value.map { $0 ? 1 : 0 } }
            if changes.name != nil || changes.role != nil || changes.availability != nil || changes.maxTickets != nil || changes.distributionPaused != nil
                || changes.departmentsOnly != nil || changes.answerAssignedOnly != nil || changes.passwordHash != nil
            {
                try await connection.query("""
                    UPDATE agents SET name = coalesce(\(changes.name), name), role = coalesce(\(changes.role?.rawValue), role),
                        availability = coalesce(\(changes.availability?.rawValue), availability), max_tickets = coalesce(\(changes.maxTickets), max_tickets),
                        distribution_paused = coalesce(\(flag(changes.distributionPaused)), distribution_paused),
                        departments_only = coalesce(\(flag(changes.departmentsOnly)), departments_only),
                        answer_assigned_only = coalesce(\(flag(changes.answerAssignedOnly)), answer_assigned_only),
                        password_hash = coalesce(\(changes.passwordHash), password_hash), updated_at = \(at.ms)
                    WHERE id = \(id)
                    """, logger: logger)
            }
            if let departments = changes.departments { try await Self.setDepartments(connection, agentId: id, departments, logger: logger) }
            let rows = try await connection.query(
                "SELECT role, departments_only, answer_assigned_only FROM agents WHERE id = \(id)", logger: logger
            ).decode((String, Int, Int).self).all()
            if let (role, departmentsOnly, answerAssignedOnly) = rows.first,
                AgentChanges.restrictsAManager(
                    role: try UnknownStoredValue.decode(role, as: AgentRole.self, column: "role"), departmentsOnly: departmentsOnly != 0,
                    answerAssignedOnly: answerAssignedOnly != 0)
            {
                throw InboxError.restrictionsAreForAgents
            }
            if changes.passwordHash != nil {
                try await connection.query(
                    "DELETE FROM agent_tokens WHERE agent_id = \(id) AND token_hash IS DISTINCT FROM \(keepingToken)", logger: logger)
            }
            // A link made for the agent as they were is void once their role or password changes.
            if changes.passwordHash != nil || changes.role != nil {
                try await connection.query("DELETE FROM agent_invites WHERE agent_id = \(id)", logger: logger)
            }
        }
    }

    public func agent(id: Int64) async throws -> Agent? {
        try await agents("SELECT \(unescaped: Self.agentColumns) FROM agents a WHERE a.id = \(id)").first
    }

    public func agents() async throws -> [Agent] {
        try await agents("SELECT \(unescaped: Self.agentColumns) FROM agents a ORDER BY a.id")
    }

    public func credentials(email: String) async throws -> (agent: Agent, passwordHash: String)? {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.agentColumns), a.password_hash FROM agents a WHERE lower(a.email) = lower(\(email))
            """, logger: logger)
        for try await row in rows {
            let agent = try Self.agent(row)
            guard let hash = try row.makeRandomAccess()[13].decode(String?.self) else { return nil }
            return (agent, hash)
        }
        return nil
    }

    public func addToken(digest: String, agentId: Int64, kind: String, label: String?, expiresAt: Date?, at: Date) async throws -> Int64 {
        try await client.transaction(logger: logger) { connection in
            // Locked, so a deactivation that commits first is seen and one that comes later waits.
            let rows = try await connection.query(
                "SELECT deactivated_at FROM agents WHERE id = \(agentId) FOR UPDATE", logger: logger
            ).decode(Int64?.self).all()
            guard let deactivatedAt = rows.first else { throw InboxError.agentNotFound(agentId) }
            guard deactivatedAt == nil else { throw InboxError.agentDeactivated(agentId) }
            try await connection.query("DELETE FROM agent_tokens WHERE agent_id = \(agentId) AND expires_at <= \(at.ms)", logger: logger)
            let ids = try await connection.query("""
                INSERT INTO agent_tokens (token_hash, agent_id, kind, label, created_at, expires_at)
                VALUES (\(digest), \(agentId), \(kind), \(label), \(at.ms), \(expiresAt?.ms)) RETURNING id
                """, logger: logger).decode(Int64.self).all()
            return ids[0]
        }
    }

    public func agent(tokenDigest: String, at: Date) async throws -> Agent? {
        try await agents("""
            SELECT \(unescaped: Self.agentColumns) FROM agent_tokens t JOIN agents a ON a.id = t.agent_id
            WHERE t.token_hash = \(tokenDigest) AND (t.expires_at IS NULL OR t.expires_at > \(at.ms)) AND a.deactivated_at IS NULL
            """).first
    }

    public func tokens(agentId: Int64, at: Date) async throws -> [AgentToken] {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            try await Self.requireAgent(connection, agentId, logger: logger)
            return try await connection.query("""
                SELECT id, agent_id, kind, label, created_at, expires_at FROM agent_tokens
                WHERE agent_id = \(agentId) AND (expires_at IS NULL OR expires_at > \(at.ms)) ORDER BY id
                """, logger: logger).decode((Int64, Int64, String, String?, Int64, Int64?).self).all().map {
                AgentToken(id: $0.0, agentId: $0.1, kind: $0.2, label: $0.3, createdAt: Date(ms: $0.4), expiresAt: $0.5.map(Date.init(ms:)))
            }
        }
    }

    public func deleteToken(digest: String) async throws -> Int64? {
        try await client.query("DELETE FROM agent_tokens WHERE token_hash = \(digest) RETURNING agent_id", logger: logger).decode(Int64.self).all().first
    }

    public func deleteToken(id: Int64, agentId: Int64) async throws -> Bool {
        try await client.query("DELETE FROM agent_tokens WHERE id = \(id) AND agent_id = \(agentId) RETURNING id", logger: logger)
            .decode(Int64.self).all().count == 1
    }

    public func deleteTokens(agentId: Int64) async throws -> Int {
        try await client.transaction(logger: logger) { connection in
            try await Self.requireAgent(connection, agentId, logger: logger)
            return try await connection.query("DELETE FROM agent_tokens WHERE agent_id = \(agentId) RETURNING id", logger: logger)
                .decode(Int64.self).all().count
        }
    }

    public func deactivate(id: Int64, by actor: String, at: Date) async throws -> [Int64]? {
        let detail = try AgentDeactivation.historyDetail(agentId: id)
        return try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let owners = try await Self.activeOwners(connection, logger: logger)
            let rows = try await connection.query(
                "SELECT role, deactivated_at FROM agents WHERE id = \(id) FOR UPDATE", logger: logger
            ).decode((String, Int64?).self).all()
            guard let (role, deactivatedAt) = rows.first else { throw InboxError.agentNotFound(id) }
            guard deactivatedAt == nil else { return nil }
            if role == AgentRole.owner.rawValue, owners == 1 {
                throw InboxError.lastOwnerDeactivated
            }
            let now = at.ms
            try await connection.query(
                "UPDATE agents SET deactivated_at = \(now), availability = 'offline', updated_at = \(now) WHERE id = \(id)", logger: logger)
            try await connection.query("DELETE FROM agent_tokens WHERE agent_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM agent_invites WHERE agent_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM notifications WHERE agent_id = \(id) AND status = 'pending'", logger: logger)
            let tickets = try await connection.query("""
                UPDATE tickets SET agent_id = NULL, assignee = NULL, queued_at = \(now), updated_at = \(now)
                WHERE agent_id = \(id) AND status IN ('new', 'open', 'pending') RETURNING id
                """, logger: logger).decode(Int64.self).all().sorted()
            try await connection.query("""
                INSERT INTO ticket_events (ticket_id, kind, actor, detail, created_at)
                SELECT ticket, 'transferred', \(actor), \(detail), \(now) FROM unnest(\(tickets)::bigint[]) WITH ORDINALITY AS requeued (ticket, n) ORDER BY n
                """, logger: logger)
            return tickets
        }
    }

    public func reactivate(id: Int64, at: Date) async throws {
        let rows = try await client.query("""
            WITH reactivated AS (
                UPDATE agents SET deactivated_at = NULL, availability = 'offline', updated_at = \(at.ms) WHERE id = \(id) AND deactivated_at IS NOT NULL)
            SELECT id FROM agents WHERE id = \(id)
            """, logger: logger).decode(Int64.self).all()
        guard !rows.isEmpty else { throw InboxError.agentNotFound(id) }
    }

    public func createDepartment(name: String, at: Date) async throws -> Department {
        let ids = try await client.query(
            "INSERT INTO departments (name, created_at) VALUES (\(name), \(at.ms)) ON CONFLICT ((lower(name))) DO NOTHING RETURNING id", logger: logger
        ).decode(Int64.self).all()
        guard let id = ids.first else { throw InboxError.departmentNameTaken(name) }
        return Department(id: id, name: name, members: [])
    }

    public func departments() async throws -> [Department] {
        try await client.query("""
            SELECT d.id, d.name, ARRAY(SELECT agent_id FROM department_members m WHERE m.department_id = d.id ORDER BY agent_id),
                ARRAY(SELECT account FROM account_departments r WHERE r.department_id = d.id ORDER BY account),
                EXISTS (SELECT 1 FROM business_hours h WHERE h.department_id = d.id)
            FROM departments d ORDER BY d.id
            """, logger: logger).decode((Int64, String, [Int64], [String], Bool).self).all().map {
                Department(id: $0.0, name: $0.1, members: $0.2, accounts: $0.3, ownHours: $0.4)
            }
    }

    /// An agent's columns in the order `agent(_:)` reads them.
    private static let agentColumns = """
        a.id, a.email, a.name, a.role, a.availability, a.max_tickets, a.distribution_paused, a.departments_only, a.answer_assigned_only,
        ARRAY(SELECT department_id FROM department_members m WHERE m.agent_id = a.id ORDER BY department_id),
        (SELECT count(*) FROM tickets t WHERE t.agent_id = a.id AND t.status IN ('new', 'open')),
        a.password_hash IS NOT NULL, a.deactivated_at IS NULL
        """

    private func agents(_ query: PostgresQuery) async throws -> [Agent] {
        var agents: [Agent] = []
        for try await row in try await client.query(query, logger: logger) { agents.append(try Self.agent(row)) }
        return agents
    }

    private static func agent(_ row: PostgresRow) throws -> Agent {
        let cells = row.makeRandomAccess()
        let (id, email, name, role, availability, maxTickets, paused, departmentsOnly, answerAssignedOnly) = (
            try cells[0].decode(Int64.self), try cells[1].decode(String.self), try cells[2].decode(String.self), try cells[3].decode(String.self),
            try cells[4].decode(String.self), try cells[5].decode(Int.self), try cells[6].decode(Int.self), try cells[7].decode(Int.self),
            try cells[8].decode(Int.self))
        return Agent(
            id: id, email: email, name: name, role: try UnknownStoredValue.decode(role, as: AgentRole.self, column: "role"),
            availability: try UnknownStoredValue.decode(availability, as: Availability.self, column: "availability"), maxTickets: maxTickets,
            distributionPaused: paused != 0, departmentsOnly: departmentsOnly != 0, answerAssignedOnly: answerAssignedOnly != 0,
            departments: try cells[9].decode([Int64].self), activeTickets: Int(try cells[10].decode(Int64.self)),
            hasPassword: try cells[11].decode(Bool.self), active: try cells[12].decode(Bool.self))
    }

    /// How many active owners there are, their rows locked (in id order) until the transaction ends.
    private static func activeOwners(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query("SELECT id FROM agents WHERE role = 'owner' AND deactivated_at IS NULL ORDER BY id FOR UPDATE", logger: logger)
            .decode(Int64.self).all().count
    }

    private static func setDepartments(_ connection: PostgresConnection, agentId: Int64, _ departments: [Int64], logger: Logger) async throws {
        try await connection.query("DELETE FROM department_members WHERE agent_id = \(agentId)", logger: logger)
        let wanted = Array(Set(departments)).sorted()
        let added = try await connection.query("""
            INSERT INTO department_members (department_id, agent_id) SELECT id, \(agentId) FROM departments WHERE id = ANY(\(wanted)) RETURNING department_id
            """, logger: logger).decode(Int64.self).all()
        if let missing = Set(wanted).subtracting(added).min() { throw InboxError.noSuchDepartment(missing) }
    }

    private static func requireAgent(_ connection: PostgresConnection, _ id: Int64, logger: Logger) async throws {
        guard try await !connection.query("SELECT 1 FROM agents WHERE id = \(id)", logger: logger).decode(Int.self).all().isEmpty else {
            throw InboxError.agentNotFound(id)
        }
    }
}
