import Foundation
import GRDB

/// Where agents' alerts are kept: each agent's alert settings, who gets alerted about what
/// (the feed that turns the event log into queued alerts) and the queue of alerts the Notifier
/// claims (`LeaseQueue.alerts`). One implementation per database (`SQLiteAlertStore` below,
/// `PostgresAlertStore` in PostgresStore), held to one contract (Tests/StoreTests). Validating
/// settings and publishing are the domain's (`Inbox.setAlertSettings`, `Inbox.feedAlerts`).
public protocol AlertStore: Sendable {
    /// The agent's settings, or the defaults (every event on the desktop) if none were saved.
    func settings(agentId: Int64) async throws -> AlertSettings

    /// Replaces the agent's settings (already validated).
    func saveSettings(_ settings: AlertSettings, agentId: Int64, now: Date) async throws

    /// Turns what happened since the last call (past the durable cursor `notify.log`: new tickets,
    /// customer messages, assignments) and tickets queued since before `now - waitingAfter` into
    /// alerts for the agents concerned, on the media each chose (`AlertRecipients`). An event on a
    /// ticket that already has a pending alert of its kind for the agent grows that alert's count;
    /// customer messages are due `coalesceWindow` after `now`. Each log entry is acted on once and
    /// each ticket gets one waiting alert, however many processes feed at once. Does nothing while
    /// there are no agents. Returns how many alerts were queued or grown.
    func queueAlerts(coalesceWindow: TimeInterval, waitingAfter: TimeInterval, limit: Int, now: Date) async throws -> Int

    /// Leases up to `limit` due alerts (`LeaseQueue.alerts`) for `lease` seconds, with what sending
    /// needs (the agent's settings and e-mail address).
    func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [PendingAlert]

    /// Records an alert's outcome: retried at `next` (`error` kept), or given its final `status`
    /// (`sent` also stamps `sent_at`). `LeaseLost` if another worker has claimed it since.
    func finish(_ alert: PendingAlert, status: String, error: String?, retryAt next: Date?, now: Date) async throws
}

/// Who gets alerted, written once for both databases (the stores run the queries, these decide).
public enum AlertRecipients {
    /// The agents concerned by a ticket's new arrival or its wait in the queue: active agents in
    /// its department; for a ticket without one, every active agent not restricted to their
    /// departments. Arguments: the ticket id.
    package static let departmentAgentsSQL = """
        SELECT a.id FROM agents a, tickets t WHERE t.id = ? AND a.deactivated_at IS NULL
            AND (CASE WHEN t.department_id IS NULL THEN a.departments_only = 0
                 ELSE a.id IN (SELECT agent_id FROM department_members WHERE department_id = t.department_id) END)
        ORDER BY a.id
        """

    /// Unassigned tickets queued at or before a time (argument 1) with no waiting alert yet, oldest
    /// first, up to a limit (argument 2).
    package static let waitingTicketsSQL = """
        SELECT t.id FROM tickets t WHERE t.queued_at IS NOT NULL AND t.queued_at <= ? AND t.agent_id IS NULL AND t.status IN ('new', 'open')
            AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.ticket_id = t.id AND n.event = 'waiting')
        ORDER BY t.queued_at LIMIT ?
        """

    /// A ticket's customer and latest inbound text. Arguments: the ticket id.
    package static let summarySQL = """
        SELECT c.display_name, (SELECT text FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1) AS text
        FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?
        """

    /// An alert's one-line description: "Kenji: are you there?".
    public static func summary(name: String?, text: String?) -> String {
        "\(name ?? "a customer"): \(String((text ?? "").prefix(120)))"
    }

    /// Whom an `assigned`/`transferred` history entry alerts: the agent it gave the ticket to,
    /// unless they took it themselves (keeping a ticket oneself is no news to oneself).
    public static func assignee(kind: String?, actor: String, detail: String) -> Int64? {
        guard assignmentKinds.contains(kind ?? "") else { return nil }
        let detail = (try? ContentCoding.decode([String: String].self, detail)) ?? [:]
        guard let agent = detail["agentId"].flatMap(Int64.init), actor != "agent:\(agent)" else { return nil }
        return agent
    }

    /// The history entries that give a ticket to an agent.
    public static let assignmentKinds: Set<String> = ["assigned", "transferred"]

    /// The log entries the alert feed follows.
    public static let followedKinds: [LoggedEvent.Kind] = [.ticketOpened, .message, .history]
}

extension AlertSettings {
    /// `media` as stored (`notification_settings.media`): JSON, event names to media, sorted keys.
    public var storedMedia: String {
        get throws { try ContentCoding.encode(Dictionary(uniqueKeysWithValues: media.map { ($0.key.rawValue, $0.value) })) }
    }

    /// Settings as stored; events this binary does not know are left out.
    public init(storedMedia: String, phone: String?, quietStart: String?, quietEnd: String?, timeZone: String?) throws {
        let raw = try ContentCoding.decode([String: [AlertMedium]].self, storedMedia)
        self.init(
            media: Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in AlertEvent(rawValue: key).map { ($0, value) } }),
            phone: phone, quietStart: quietStart, quietEnd: quietEnd, timeZone: timeZone)
    }
}

/// `AlertStore` on SQLite: the feed runs in one write transaction (SQLite's single writer: no
/// other feed runs between reading the cursor and moving it).
public struct SQLiteAlertStore: AlertStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func settings(agentId: Int64) async throws -> AlertSettings {
        try await database.pool.read { db in try Self.settings(db, agentId: agentId) }
    }

    public func saveSettings(_ settings: AlertSettings, agentId: Int64, now: Date) async throws {
        let media = try settings.storedMedia
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO notification_settings (agent_id, media, phone, quiet_start, quiet_end, time_zone, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [agentId, media, settings.phone, settings.quietStart, settings.quietEnd, settings.timeZone, now.ms])
        }
    }

    static func settings(_ db: Database, agentId: Int64) throws -> AlertSettings {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM notification_settings WHERE agent_id = ?"), arguments: [agentId]) else {
            return AlertSettings()
        }
        return try AlertSettings(storedMedia: row["media"], phone: row["phone"], quietStart: row["quiet_start"], quietEnd: row["quiet_end"], timeZone: row["time_zone"])
    }

    public func queueAlerts(coalesceWindow: TimeInterval, waitingAfter: TimeInterval, limit: Int, now: Date) async throws -> Int {
        // No agents, no alerts, and no write (the first agent moves the cursor to now).
        guard try await database.pool.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM agents LIMIT 1") }) != nil else { return 0 }
        return try await database.pool.write { db in
            var queued = 0
            func alert(_ agentId: Int64, _ event: AlertEvent, ticketId: Int64, delay: TimeInterval) throws {
                let settings = try Self.settings(db, agentId: agentId)
                let summary = try Self.summary(db, ticketId: ticketId)
                for medium in settings.media[event] ?? [] {
                    try db.execute(sql: """
                        UPDATE notifications SET count = count + 1, summary = ? WHERE agent_id = ? AND medium = ? AND event = ? AND ticket_id = ? AND status = 'pending'
                        """, arguments: [summary, agentId, medium.rawValue, event.rawValue, ticketId])
                    if db.changesCount == 0 {
                        try db.execute(sql: """
                            INSERT INTO notifications (agent_id, medium, event, ticket_id, summary, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [agentId, medium.rawValue, event.rawValue, ticketId, summary, now.addingTimeInterval(delay).ms, now.ms])
                    }
                    queued += 1
                }
            }
            func departmentAgents(_ ticketId: Int64) throws -> [Int64] {
                try Int64.fetchAll(db, sql: AlertRecipients.departmentAgentsSQL, arguments: [ticketId])
            }
            for event in try Inbox.followLog(db, "notify", types: AlertRecipients.followedKinds, limit: limit) {
                switch event.type {
                case .ticketOpened:
                    for agent in try departmentAgents(event.ticketId) { try alert(agent, .newTicket, ticketId: event.ticketId, delay: 0) }
                case .message:
                    guard event.direction == MessageDirection.inbound.rawValue,
                        let agent = try Int64.fetchOne(db, sql: "SELECT agent_id FROM tickets WHERE id = ?", arguments: [event.ticketId])
                    else { continue }
                    try alert(agent, .customerMessage, ticketId: event.ticketId, delay: coalesceWindow)
                default:
                    guard AlertRecipients.assignmentKinds.contains(event.kind ?? ""),
                        let row = try Row.fetchOne(db, sql: "SELECT actor, detail FROM ticket_events WHERE id = ?", arguments: [event.historyId]),
                        let agent = AlertRecipients.assignee(kind: event.kind, actor: row["actor"], detail: row["detail"])
                    else { continue }
                    try alert(agent, .assigned, ticketId: event.ticketId, delay: 0)
                }
            }
            let waiting = try Int64.fetchAll(db, sql: AlertRecipients.waitingTicketsSQL, arguments: [now.addingTimeInterval(-waitingAfter).ms, limit])
            for ticketId in waiting {
                for agent in try departmentAgents(ticketId) { try alert(agent, .waiting, ticketId: ticketId, delay: 0) }
            }
            return queued
        }
    }

    static func summary(_ db: Database, ticketId: Int64) throws -> String {
        let row = try Row.fetchOne(db, sql: AlertRecipients.summarySQL, arguments: [ticketId])
        return AlertRecipients.summary(name: row?["display_name"], text: row?["text"])
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [PendingAlert] {
        let queue = LeaseQueue.alerts
        guard try await database.pool.read({ db in try queue.hasReady(db, now: now.ms) }) else { return [] }
        return try await database.pool.write { db in
            let leases = try queue.claim(db, limit: limit, lease: lease, now: now.ms)
            guard !leases.isEmpty else { return [] }
            return try Inbox.rows(db, for: leases, sql: "SELECT n.id AS lease_id, n.*, a.email FROM notifications n LEFT JOIN agents a ON a.id = n.agent_id WHERE n.id IN ({ids})")
                .compactMap { lease, row in
                    guard let medium = AlertMedium(rawValue: row["medium"]), let event = AlertEvent(rawValue: row["event"]) else { return nil }
                    return PendingAlert(
                        lease: lease, agentId: row["agent_id"], medium: medium, event: event, ticketId: row["ticket_id"], count: row["count"],
                        summary: row["summary"], attempts: row["attempts"], settings: try Self.settings(db, agentId: row["agent_id"]),
                        email: row["email"] ?? "")
                }
        }
    }

    public func finish(_ alert: PendingAlert, status: String, error: String?, retryAt next: Date?, now: Date) async throws {
        try await database.pool.write { db in
            if let next {
                try LeaseQueue.alerts.reschedule(db, alert.lease, at: next.ms, error: error)
            } else {
                try LeaseQueue.alerts.complete(db, alert.lease, status: status, error: error, setting: ["sent_at": status == "sent" ? now.ms : nil])
            }
        }
    }
}
