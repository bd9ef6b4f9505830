import Foundation

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

    public init(
        id: Int64, email: String, name: String, role: AgentRole, availability: Availability, maxTickets: Int, distributionPaused: Bool,
        departmentsOnly: Bool, answerAssignedOnly: Bool, departments: [Int64], activeTickets: Int, hasPassword: Bool, active: Bool
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.availability = availability
        self.maxTickets = maxTickets
        self.distributionPaused = distributionPaused
        self.departmentsOnly = departmentsOnly
        self.answerAssignedOnly = answerAssignedOnly
        self.departments = departments
        self.activeTickets = activeTickets
        self.hasPassword = hasPassword
        self.active = active
    }
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
    /// Channel accounts (`kind/id`) whose new tickets open in this department.
    public var accounts: [String]
    /// Whether it has business hours of its own (else the default hours apply to it).
    public var ownHours: Bool

    public init(id: Int64, name: String, members: [Int64], accounts: [String] = [], ownHours: Bool = false) {
        self.id = id
        self.name = name
        self.members = members
        self.accounts = accounts
        self.ownHours = ownHours
    }
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
        let id = try await stores.agentStore.create(new, at: clock())
        guard let agent = try await agent(id: id) else { throw InboxError.agentNotFound(id) }
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
        try await stores.agentStore.update(id: id, changes, keepingToken: keepingToken, at: clock())
        let accessChanged = changes.passwordHash != nil || changes.role != nil || changes.departmentsOnly != nil || changes.answerAssignedOnly != nil
            || changes.departments != nil
        bus.publish([.agentAvailable(agentId: id)] + (accessChanged ? [.agentAccessChanged(agentId: id)] : []))
        guard let agent = try await agent(id: id) else { throw InboxError.agentNotFound(id) }
        return agent
    }

    public func agent(id: Int64) async throws -> Agent? {
        try await stores.agentStore.agent(id: id)
    }

    public func agents() async throws -> [Agent] {
        try await stores.agentStore.agents()
    }

    /// The agent with this e-mail and its password hash, for a login.
    public func credentials(email: String) async throws -> (agent: Agent, passwordHash: String)? {
        try await stores.agentStore.credentials(email: email)
    }

    /// Keeps a token's digest for `agentId`; `expiresAt` nil means until revoked. A deactivated
    /// agent gets no tokens (409 `agent_deactivated`). Returns the token's id.
    @discardableResult
    public func storeToken(digest: String, agentId: Int64, kind: String, label: String?, expiresAt: Date?) async throws -> Int64 {
        try await stores.agentStore.addToken(digest: digest, agentId: agentId, kind: kind, label: label, expiresAt: expiresAt, at: clock())
    }

    /// Removes a token (a logout); a live socket opened with it closes.
    public func revokeToken(digest: String) async throws {
        if let agentId = try await stores.agentStore.deleteToken(digest: digest) { bus.publish([.agentAccessChanged(agentId: agentId)]) }
    }

    /// Who holds the token with this digest, if it exists, has not expired and its agent is active.
    public func actor(tokenDigest: String) async throws -> Caller? {
        try await stores.agentStore.agent(tokenDigest: tokenDigest, at: clock()).map(Caller.init)
    }

    public func createDepartment(name: String) async throws -> Department {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard TextRules.isName(name, maxLength: 100) else {
            throw InboxError.invalid(code: "invalid_name", message: "a department needs a name of 1 to 100 characters, not all blank")
        }
        return try await stores.agentStore.createDepartment(name: name, at: clock())
    }

    public func departments() async throws -> [Department] {
        try await stores.agentStore.departments()
    }

    /// Sends the channel account's (`kind/id`) new tickets to `departmentId`'s queue, or to no
    /// department (nil). Which accounts exist is the caller's to check (they live in the
    /// configuration as well as the database).
    public func routeAccount(_ account: String, toDepartment departmentId: Int64?) async throws {
        try await stores.agentStore.routeAccount(account, toDepartment: departmentId, at: clock())
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
