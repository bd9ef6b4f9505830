import Foundation

/// One rule's verdict in a trial run (`Inbox.trialRules`): whether its conditions hold on the
/// ticket now, and whether the engine would run its actions for the trigger (active, matching, and
/// no earlier `stop` rule that matched).
public struct RuleTrial: Sendable, Equatable, Codable {
    public var ruleId: Int64
    public var name: String
    public var active: Bool
    public var matches: Bool
    public var fires: Bool
    /// A `stop` rule that fires: the rules after it would not run.
    public var stops: Bool

    public init(ruleId: Int64, name: String, active: Bool, matches: Bool, fires: Bool, stops: Bool) {
        self.ruleId = ruleId
        self.name = name
        self.active = active
        self.matches = matches
        self.fires = fires
        self.stops = stops
    }
}

extension Inbox {
    /// Which rules of `trigger` would run if it happened to ticket `ticketId` now, in run order,
    /// changing nothing: the conditions are checked by the store's `matches`, the very check the
    /// engine's claim makes (`RuleStore.claimRun`), with the customer's latest message as the
    /// text. Inactive rules are listed (never firing) so a rule being written can be tried before
    /// it is turned on. A `time_passed` rule's delay is not waited for: it is shown as it would
    /// fire once the ticket has been idle long enough.
    public func trialRules(ticketId: Int64, trigger: Rule.Trigger) async throws -> [RuleTrial] {
        guard try await ticket(id: ticketId) != nil else { throw InboxError.notFound("ticket \(ticketId)") }
        let now = clock()
        var stopped = false
        var trials: [RuleTrial] = []
        for rule in try await stores.ruleStore.rules() where rule.trigger == trigger {
            let matches = try await stores.ruleStore.matches(rule.conditions, ticketId: ticketId, messageId: nil, now: now)
            let fires = rule.active && matches && !stopped
            trials.append(RuleTrial(ruleId: rule.id, name: rule.name, active: rule.active, matches: matches, fires: fires, stops: fires && rule.stop))
            if fires && rule.stop { stopped = true }
        }
        return trials
    }
}
