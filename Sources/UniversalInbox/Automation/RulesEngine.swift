import ChannelKit
import Foundation

/// Runs the rules over what happened since the last run, read from the database with durable
/// cursors: new tickets (`ticket_created`, then the acknowledgement and out-of-hours reply), new
/// customer messages (`message_received`), status changes made by people or customers
/// (`status_changed`), and tickets left in a state too long (`time_passed`).
///
/// Rules can never loop: what rules do is never an input to rules (their status changes are
/// skipped, their replies are outbound), and a rule runs at most once per event and ticket
/// (`rule_runs`, written before its actions).
extension Inbox {
    /// One pass over up to `limit` entries of the event log; returns `limit` when more may be
    /// waiting.
    ///
    /// Several processes may follow the feed at once (a run-once lease taken over from a holder
    /// thought dead): each reads from the cursor, acts and moves it forward (never back). What
    /// keeps an action to once is not the cursor but what commits with each decision: a rule's run
    /// (`RuleStore.claimRun`, unique per rule, ticket and event) and an automatic reply's history
    /// entry (`OutboxStore.sendAutomaticReply`, under the ticket's lock). A crash between acting
    /// and moving the cursor reads those entries again and finds them done.
    @discardableResult
    public func runRules(limit: Int = 200, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int {
        // No rules and no business hours: nothing to do, and no write competing with ingest. (The
        // first rule or hours start from that moment: see `RuleStore`.)
        guard let page = try await stores.ruleStore.ruleFeed(limit: limit) else { return 0 }
        for event in page.events {
            try await run(event.trigger, ticketId: event.ticketId, key: event.key, messageId: event.messageId, vet: vet)
            if event.trigger == .ticketCreated { try await acknowledge(ticketId: event.ticketId, vet: vet) }
        }
        try await stores.ruleStore.moveRuleFeed(to: page.next)
        try await runTimeRules(vet: vet)
        return page.more ? limit : page.read
    }

    /// `time_passed` rules: tickets in the rule's status with no activity for its delay; once per
    /// ticket and last activity.
    @discardableResult
    public func runTimeRules(vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int {
        let now = clock()
        var fired = 0
        for rule in try await stores.ruleStore.activeRules(.timePassed) {
            guard rule.conditions.status != nil, let after = rule.afterSeconds else { continue }
            for ticket in try await stores.ruleStore.idleTickets(for: rule, cutoff: Date(ms: now.ms - Int64(after) * 1000), limit: 200) {
                if try await apply(rule, ticketId: ticket.id, key: ticket.key, messageId: nil, vet: vet) == .claimed { fired += 1 }
            }
        }
        return fired
    }

    @discardableResult
    private func run(
        _ trigger: Rule.Trigger, ticketId: Int64, key: String, messageId: Int64?, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int {
        var fired = 0
        for rule in try await stores.ruleStore.activeRules(trigger) {
            let claim = try await apply(rule, ticketId: ticketId, key: key, messageId: messageId, vet: vet)
            if claim == .claimed { fired += 1 }
            // A stop rule that matched ends the run, also when it acted in an earlier pass.
            if claim != .notMatched, rule.stop { break }
        }
        return fired
    }

    /// Checks the rule's conditions on the ticket and, when this pass claimed its run, runs its actions.
    private func apply(
        _ rule: Rule, ticketId: Int64, key: String, messageId: Int64?, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> RuleRunClaim {
        let now = clock()
        let claim = try await stores.ruleStore.claimRun(rule, ticketId: ticketId, key: key, messageId: messageId, now: now)
        guard claim == .claimed else { return claim }
        let actor = Caller(agentId: nil, name: "rule:\(rule.id)", role: .owner)
        for action in rule.actions {
            do {
                try await perform(action, rule: rule, ticketId: ticketId, actor: actor, vet: vet)
            } catch {
                try await stores.ruleStore.recordRuleEvent(
                    ticketId: ticketId, kind: "rule_action_failed", by: actor.label,
                    detail: ["rule": rule.name, "action": action.type.rawValue, "error": "\(error)"], at: now)
            }
        }
        return claim
    }

    private func perform(
        _ action: Rule.Action, rule: Rule, ticketId: Int64, actor: Caller, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws {
        switch action.type {
        case .assignAgent: _ = try await transfer(ticketId: ticketId, to: TransferTarget(agentId: action.agentId), note: nil, by: actor)
        case .assignDepartment: _ = try await transfer(ticketId: ticketId, to: TransferTarget(departmentId: action.departmentId), note: nil, by: actor)
        case .addTag: _ = try await updateTicket(ticketId, TicketChanges(addTags: [action.tag ?? ""]), by: actor)
        case .setPriority: _ = try await updateTicket(ticketId, TicketChanges(priority: action.priority), by: actor)
        case .setStatus: _ = try await updateTicket(ticketId, TicketChanges(status: action.status), by: actor)
        case .reply:
            let text: String
            if let canned = action.canned {
                text = try await renderCannedResponse(canned, ticketId: ticketId, by: actor)
            } else {
                text = TemplateText.fill(action.text ?? "", try await templateValues(ticketId: ticketId))
            }
            _ = try await queueReply(ticketId: ticketId, content: .text(text), author: actor.label, by: .system, vet: vet)
        case .notify:
            let text = action.text ?? "Rule \"\(rule.name)\" matched ticket \(ticketId)"
            try await stores.ruleStore.recordRuleEvent(
                ticketId: ticketId, kind: "notified", by: actor.label,
                detail: ["agentIds": (action.agentIds ?? []).map(String.init).joined(separator: ","), "text": text], at: clock())
            bus.publish([.agentsNotified(ticketId: ticketId, agentIds: action.agentIds ?? [], text: text)])
        case .webhook:
            try await queueRuleWebhook(action.webhookId ?? 0, rule: rule, ticketId: ticketId)
        }
    }

    /// The acknowledgement and the out-of-hours reply of the ticket's department (or the default
    /// hours), each at most once per ticket.
    private func acknowledge(ticketId: Int64, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws {
        let now = clock()
        guard let place = try await stores.access.places(of: .ticket(ticketId))?.first,
            let hours = try await businessHours(department: place.departmentId)
        else { return }
        if let text = hours.acknowledgement {
            try await sendAutomaticReply(
                AutomaticReply(ticketId: ticketId, kind: .acknowledgement, text: TemplateText.fill(text, try await templateValues(ticketId: ticketId))),
                vet: vet)
        }
        if let text = hours.outOfHoursReply, !hours.isOpen(at: now) {
            try await sendAutomaticReply(
                AutomaticReply(ticketId: ticketId, kind: .outOfHoursReply, text: TemplateText.fill(text, try await templateValues(ticketId: ticketId))),
                vet: vet)
        }
    }

    /// The `{{...}}` values about a ticket and its contact (no agent: the bridge speaks).
    private func templateValues(ticketId: Int64) async throws -> [String: String] {
        try await stores.cannedResponseStore.templateContext(ticketId: ticketId, agentId: nil)?.values ?? [:]
    }
}
