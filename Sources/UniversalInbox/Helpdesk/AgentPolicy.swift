/// What managing an agent can mean; each agent-management route asks `AgentPolicy` for one of these.
public enum AgentAction: Sendable, Equatable {
    /// Name, availability, distribution pause: an agent's own day-to-day state.
    case changeState
    /// Capacity, departments and restrictions.
    case changeSettings
    case setPassword
    /// Make, list and revoke API and login tokens.
    case manageTokens
    case setRole(AgentRole)
    /// Deactivate or reactivate.
    case deactivate
}

/// The one rule for managing agents: an actor may manage only agents whose role is strictly below
/// its own (owner > admin > agent), plus itself for its own state, password and tokens; nobody may
/// grant a role above their own. The admin token (and the bridge itself) ranks above every owner,
/// so an operator can always recover an account. Without this, an admin could mint a token for an
/// owner and act as one.
public enum AgentPolicy {
    /// owner 2, admin 1, agent 0; the admin token and the bridge (no agent row) 3.
    public static func rank(_ actor: Caller) -> Int { actor.agentId == nil ? 3 : rank(actor.role) }

    public static func rank(_ role: AgentRole) -> Int {
        switch role {
        case .owner: 2
        case .admin: 1
        case .agent: 0
        }
    }

    /// Refuses (403) `action` by `actor` on `target`.
    public static func check(_ actor: Caller, _ action: AgentAction, on target: Agent) throws {
        if case .setRole(let role) = action { try checkGrant(actor, role) }
        if actor.agentId == target.id {
            switch action {
            case .changeState, .setPassword, .manageTokens: return
            case .changeSettings, .setRole:
                // An owner or admin may adjust (or lower) itself; an agent's settings are not its own to change.
                guard actor.managesSettings else { throw adminsOnly }
                return
            case .deactivate:
                throw InboxError.forbidden(code: "cannot_deactivate_self", message: "an agent cannot deactivate itself; ask someone above you")
            }
        }
        guard actor.managesSettings else { throw adminsOnly }
        guard rank(actor) > rank(target.role) else {
            throw InboxError.forbidden(
                code: "rank_too_low",
                message: "you may manage only agents whose role is below yours (owner > admin > agent); agent \(target.id) is \(target.role.rawValue)")
        }
    }

    /// Refuses (403) giving `role` to anyone (a new agent or a role change) when it is above the actor's.
    public static func checkGrant(_ actor: Caller, _ role: AgentRole) throws {
        guard actor.managesSettings else { throw adminsOnly }
        guard rank(role) <= rank(actor) else {
            throw InboxError.forbidden(code: "role_above_yours", message: "nobody may grant a role above their own (\(actor.role.rawValue))")
        }
    }

    private static let adminsOnly = InboxError.forbidden(code: "admins_only", message: "only an owner or admin may manage other agents or agents' settings")
}
