import ChannelKit
import Foundation

/// An automation: when `trigger` happens to a ticket and every condition holds, the actions run in
/// order. Rules run by `position`; one with `stop` ends the run for that event when it matches.
public struct Rule: Sendable, Equatable, Codable {
    public enum Trigger: String, Sendable, Codable, CaseIterable {
        case ticketCreated = "ticket_created"
        case messageReceived = "message_received"
        case statusChanged = "status_changed"
        /// A ticket has stayed in `conditions.status` for `afterSeconds` without activity.
        case timePassed = "time_passed"
    }

    /// All that are set must hold.
    public struct Conditions: Sendable, Equatable, Codable {
        public var channels: [String]?
        /// Case-insensitive text in the customer's message (the triggering one, else their latest).
        public var textContains: String?
        /// A regular expression the message matches (case-insensitive).
        public var textMatches: String?
        public var tag: String?
        public var departmentId: Int64?
        /// Custom contact field values that must match.
        public var contactFields: [String: String]?
        /// `inside` or `outside` the ticket's department's business hours.
        public var businessHours: String?
        public var status: TicketStatus?

        public init() {}
    }

    public struct Action: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable {
            case assignAgent = "assign_agent"
            case assignDepartment = "assign_department"
            case addTag = "add_tag"
            case setPriority = "set_priority"
            case setStatus = "set_status"
            /// Reply with a canned response (`canned`) or `text`.
            case reply
            /// Tell agents (`agentIds`) live, with `text`.
            case notify
            /// Send the ticket to an outgoing webhook (`webhookId`) as `rule.fired`.
            case webhook
        }
        public var type: Kind
        public var agentId: Int64?
        public var departmentId: Int64?
        public var tag: String?
        public var priority: TicketPriority?
        public var status: TicketStatus?
        public var canned: String?
        public var text: String?
        public var agentIds: [Int64]?
        public var webhookId: Int64?

        public init(type: Kind) { self.type = type }
    }

    public var id: Int64
    public var position: Int
    public var name: String
    public var trigger: Trigger
    public var afterSeconds: Int?
    /// A year: longer idle periods are no support team's rule, and the cutoff arithmetic stays in range.
    public static let maxAfterSeconds = 366 * 86400
    public var conditions: Conditions
    public var actions: [Action]
    public var stop: Bool
    public var active: Bool

    public init(
        id: Int64 = 0, position: Int = 0, name: String, trigger: Trigger, afterSeconds: Int? = nil, conditions: Conditions = Conditions(),
        actions: [Action], stop: Bool = false, active: Bool = true
    ) {
        self.id = id
        self.position = position
        self.name = name
        self.trigger = trigger
        self.afterSeconds = afterSeconds
        self.conditions = conditions
        self.actions = actions
        self.stop = stop
        self.active = active
    }

    enum CodingKeys: String, CodingKey { case id, position, name, trigger, afterSeconds, conditions, actions, stop, active }

    /// `id` and `position` are the bridge's to give; `conditions`, `stop` and `active` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decodeIfPresent(Int64.self, forKey: .id) ?? 0, position: try c.decodeIfPresent(Int.self, forKey: .position) ?? 0,
            name: try c.decode(String.self, forKey: .name), trigger: try c.decode(Trigger.self, forKey: .trigger),
            afterSeconds: try c.decodeIfPresent(Int.self, forKey: .afterSeconds),
            conditions: try c.decodeIfPresent(Conditions.self, forKey: .conditions) ?? Conditions(), actions: try c.decode([Action].self, forKey: .actions),
            stop: try c.decodeIfPresent(Bool.self, forKey: .stop) ?? false, active: try c.decodeIfPresent(Bool.self, forKey: .active) ?? true)
    }

    /// Refuses rules that could not run: missing action fields, a bad regular expression, a
    /// time rule without its status and delay.
    func validate() throws {
        guard !TextRules.isBlank(name) else { throw InboxError.invalid(code: "invalid_name", message: "a rule needs a name") }
        guard !actions.isEmpty else { throw InboxError.invalid(code: "no_actions", message: "a rule needs at least one action") }
        if let afterSeconds, !(1...Self.maxAfterSeconds).contains(afterSeconds) {
            throw InboxError.invalid(code: "invalid_time_rule", message: "afterSeconds is 1 to \(Self.maxAfterSeconds) (a year)")
        }
        if let unknown = conditions.channels?.first(where: { ChannelKind(rawValue: $0) == nil }) {
            throw InboxError.invalid(code: "invalid_condition", message: "\(unknown) is not a channel")
        }
        if trigger == .timePassed, afterSeconds == nil || conditions.status == nil {
            throw InboxError.unprocessable(
                code: "invalid_time_rule", message: "a time_passed rule needs afterSeconds from 1 to \(Self.maxAfterSeconds) (a year) and conditions.status")
        }
        if let pattern = conditions.textMatches, (try? NSRegularExpression(pattern: pattern)) == nil {
            throw InboxError.unprocessable(code: "invalid_regex", message: "textMatches is not a regular expression")
        }
        if let hours = conditions.businessHours, !["inside", "outside"].contains(hours) {
            throw InboxError.invalid(code: "invalid_condition", message: "businessHours is inside or outside")
        }
        for action in actions {
            let complete: Bool =
                switch action.type {
                case .assignAgent: action.agentId != nil
                case .assignDepartment: action.departmentId != nil
                case .addTag: action.tag != nil
                case .setPriority: action.priority != nil
                case .setStatus: action.status != nil
                case .reply: (action.canned != nil) != (action.text != nil)
                case .notify: !(action.agentIds ?? []).isEmpty
                case .webhook: action.webhookId != nil
                }
            guard complete else {
                throw InboxError.unprocessable(code: "invalid_action", message: "\(action.type.rawValue) is missing what it needs (see the API documentation)")
            }
        }
    }
}

extension Inbox {
    /// Adds a rule at the end of the order.
    public func createRule(_ rule: Rule) async throws -> Rule {
        try rule.validate()
        return try await stores.ruleStore.create(rule, now: clock())
    }

    public func rules() async throws -> [Rule] {
        try await stores.ruleStore.rules()
    }

    /// Replaces rule `id`'s content (checked as a new rule is), keeping its place in the order.
    public func updateRule(id: Int64, _ rule: Rule) async throws -> Rule {
        try rule.validate()
        var changed = rule
        changed.id = id
        guard let updated = try await stores.ruleStore.update(changed) else { throw InboxError.notFound("rule \(id)") }
        return updated
    }

    public func deleteRule(id: Int64) async throws {
        guard try await stores.ruleStore.delete(id: id) else { throw InboxError.notFound("rule \(id)") }
    }

    /// Puts the rules in this order (every rule id, once).
    public func reorderRules(_ ids: [Int64]) async throws -> [Rule] {
        try await stores.ruleStore.reorder(ids)
    }
}
