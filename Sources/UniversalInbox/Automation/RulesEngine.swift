import ChannelKit
import Foundation
import GRDB

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
    @discardableResult
    public func runRules(limit: Int = 200, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int {
        // No rules and no business hours: nothing to do, and no write competing with ingest. (The
        // first rule or hours start from that moment: see `RuleStore`.)
        guard try await database.pool.read({ db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM rules WHERE active = 1) OR EXISTS (SELECT 1 FROM business_hours)")
        }) == true else { return 0 }
        // The log in order: a ticket's creation, its customers' messages and its status changes
        // (not the rules' own, so rules cannot loop) reach the rules as they happened.
        let pending = try await database.pool.read { db in
            let pending = try Self.pendingLog(db, "rules", types: [.ticketOpened, .message, .history], limit: limit)
            let statusChanges = try Set(Int64.fetchAll(db, sql: """
                SELECT id FROM ticket_events WHERE id IN (\(pending.events.compactMap(\.historyId).map(String.init).joined(separator: ",")))
                    AND kind IN ('status', 'marked_spam', 'restored_from_spam') AND actor NOT LIKE 'rule:%'
                """))
            return (events: pending.events, next: pending.next, more: pending.more, statusChanges: statusChanges)
        }
        for event in pending.events {
            switch event.type {
            case .ticketOpened:
                try await run(.ticketCreated, ticketId: event.ticketId, key: "ticket:\(event.ticketId)", messageId: nil, vet: vet)
                try await acknowledge(ticketId: event.ticketId, vet: vet)
            case .message:
                guard event.direction == MessageDirection.inbound.rawValue, let id = event.messageId else { continue }
                try await run(.messageReceived, ticketId: event.ticketId, key: "message:\(id)", messageId: id, vet: vet)
            default:
                guard let id = event.historyId, pending.statusChanges.contains(id) else { continue }
                try await run(.statusChanged, ticketId: event.ticketId, key: "event:\(id)", messageId: nil, vet: vet)
            }
        }
        try await database.pool.write { db in try Self.moveLog(db, "rules", to: pending.next) }
        try await runTimeRules(vet: vet)
        return pending.more ? limit : pending.events.count
    }

    /// `time_passed` rules: tickets in the rule's status with no activity for its delay; once per
    /// ticket and last activity.
    @discardableResult
    public func runTimeRules(vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws -> Int {
        let now = clock().ms
        var fired = 0
        for rule in try await database.pool.read({ db in try Self.rules(db, trigger: .timePassed) }) {
            guard let status = rule.conditions.status, let after = rule.afterSeconds else { continue }
            let cutoff = now - Int64(after) * 1000
            let due: [(id: Int64, updatedAt: Int64)] = try await database.pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT t.id, t.updated_at FROM tickets t WHERE t.status = ? AND t.updated_at <= ?
                        AND NOT EXISTS (SELECT 1 FROM rule_runs r WHERE r.rule_id = ? AND r.ticket_id = t.id AND r.key = 'idle:' || t.updated_at)
                    ORDER BY t.updated_at LIMIT 200
                    """, arguments: [status.rawValue, cutoff, rule.id]
                ).map { ($0["id"], $0["updated_at"]) }
            }
            for ticket in due {
                if try await apply(rule, ticketId: ticket.id, key: "idle:\(ticket.updatedAt)", messageId: nil, vet: vet) { fired += 1 }
            }
        }
        return fired
    }

    @discardableResult
    private func run(
        _ trigger: Rule.Trigger, ticketId: Int64, key: String, messageId: Int64?, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Int {
        var fired = 0
        for rule in try await database.pool.read({ db in try Self.rules(db, trigger: trigger) }) {
            guard try await apply(rule, ticketId: ticketId, key: key, messageId: messageId, vet: vet) else { continue }
            fired += 1
            if rule.stop { break }
        }
        return fired
    }

    /// Checks the rule's conditions on the ticket and runs its actions; true when it fired.
    private func apply(
        _ rule: Rule, ticketId: Int64, key: String, messageId: Int64?, vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Bool {
        let now = clock()
        let matched: Bool = try await database.pool.write { db in
            guard try Self.matches(rule.conditions, db, ticketId: ticketId, messageId: messageId, now: now) else { return false }
            try db.execute(
                sql: "INSERT OR IGNORE INTO rule_runs (rule_id, ticket_id, key, ran_at) VALUES (?, ?, ?, ?)", arguments: [rule.id, ticketId, key, now.ms])
            return db.changesCount == 1
        }
        guard matched else { return false }
        let actor = Caller(agentId: nil, name: "rule:\(rule.id)", role: .owner)
        for action in rule.actions {
            do {
                try await perform(action, rule: rule, ticketId: ticketId, actor: actor, vet: vet)
            } catch {
                try await database.pool.write { db in
                    try Self.record(
                        db, ticketId: ticketId, "rule_action_failed", by: actor.label, ["rule": rule.name, "action": action.type.rawValue, "error": "\(error)"],
                        at: now.ms)
                }
            }
        }
        return true
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
                let values = try await database.pool.read { db in
                    try Self.templateValues(db, ticketId: ticketId, contactId: try Int64.fetchOne(db, sql: "SELECT contact_id FROM tickets WHERE id = ?", arguments: [ticketId]) ?? 0, actor: nil)
                }
                text = TemplateText.fill(action.text ?? "", values)
            }
            _ = try await queueReply(ticketId: ticketId, content: .text(text), author: actor.label, by: .system, vet: vet)
        case .notify:
            let text = action.text ?? "Rule \"\(rule.name)\" matched ticket \(ticketId)"
            try await database.pool.write { db in
                try Self.record(
                    db, ticketId: ticketId, "notified", by: actor.label,
                    ["agentIds": (action.agentIds ?? []).map(String.init).joined(separator: ","), "text": text], at: clock().ms)
            }
            bus.publish([.agentsNotified(ticketId: ticketId, agentIds: action.agentIds ?? [], text: text)])
        case .webhook:
            try await queueRuleWebhook(action.webhookId ?? 0, rule: rule, ticketId: ticketId)
        }
    }

    /// The acknowledgement and the out-of-hours reply of the ticket's department (or the default hours).
    private func acknowledge(ticketId: Int64, vet: @escaping @Sendable (ReplyTarget) -> SendError?) async throws {
        let now = clock()
        let department = try await database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT department_id FROM tickets WHERE id = ?", arguments: [ticketId])
        }
        guard let hours = try await businessHours(department: department) else { return }
        if let text = hours.acknowledgement {
            try await sendAutomaticReply(ticketId: ticketId, kind: "acknowledgement", vet: vet) { db in
                let contact = try Int64.fetchOne(db, sql: "SELECT contact_id FROM tickets WHERE id = ?", arguments: [ticketId]) ?? 0
                return (TemplateText.fill(text, try Self.templateValues(db, ticketId: ticketId, contactId: contact, actor: nil)), [:])
            }
        }
        if let text = hours.outOfHoursReply, !hours.isOpen(at: now) {
            try await sendAutomaticReply(ticketId: ticketId, kind: "out_of_hours_reply", vet: vet) { db in
                let contact = try Int64.fetchOne(db, sql: "SELECT contact_id FROM tickets WHERE id = ?", arguments: [ticketId]) ?? 0
                return (TemplateText.fill(text, try Self.templateValues(db, ticketId: ticketId, contactId: contact, actor: nil)), [:])
            }
        }
    }

    static func matches(_ c: Rule.Conditions, _ db: Database, ticketId: Int64, messageId: Int64?, now: Date) throws -> Bool {
        guard let ticket = try Row.fetchOne(db, sql: "SELECT * FROM tickets WHERE id = ?", arguments: [ticketId]) else { return false }
        if let status = c.status, ticket["status"] != status.rawValue { return false }
        if let department = c.departmentId, ticket["department_id"] as Int64? != department { return false }  // a ticket may have no department
        if let channels = c.channels {
            let used = Set(try String.fetchAll(db, sql: "SELECT channel FROM ticket_channels WHERE ticket_id = ?", arguments: [ticketId]))
            guard !used.isDisjoint(with: channels) else { return false }
        }
        if let tag = c.tag {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM ticket_tags WHERE ticket_id = ? AND tag = ?", arguments: [ticketId, try Self.tag(tag)]) != nil else {
                return false
            }
        }
        if let wanted = c.contactFields {
            let fields = try fieldValues(db, scope: .contact, subject: ticket["contact_id"])
            guard wanted.allSatisfy({ fields[$0.key] == $0.value }) else { return false }
        }
        if c.textContains != nil || c.textMatches != nil {
            let text = try messageId.flatMap { try String.fetchOne(db, sql: "SELECT text FROM messages WHERE id = ?", arguments: [$0]) }
                ?? String.fetchOne(db, sql: "SELECT text FROM messages WHERE ticket_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1", arguments: [ticketId])
                ?? ""
            if let needle = c.textContains, !text.localizedCaseInsensitiveContains(needle) { return false }
            if let pattern = c.textMatches {
                guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]),
                    regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                else { return false }
            }
        }
        if let wanted = c.businessHours {
            let open = try businessHours(db, department: ticket["department_id"])?.isOpen(at: now) ?? true
            if (wanted == "inside") != open { return false }
        }
        return true
    }
}
