import ChannelKit
import Foundation
import GRDB

/// What agents are alerted about.
public enum AlertEvent: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    /// A new ticket in one of the agent's departments (any, for tickets without one).
    case newTicket = "new_ticket"
    /// A customer wrote on a ticket assigned to the agent.
    case customerMessage = "customer_message"
    /// A ticket was assigned or transferred to the agent.
    case assigned
    /// A ticket of the agent's departments has waited in the queue longer than the threshold.
    case waiting
}

/// How an alert reaches an agent.
public enum AlertMedium: String, Sendable, Codable, CaseIterable {
    /// A live event on `/api/v1/live` that the web inbox shows as a browser notification.
    case desktop
    /// A text through a configured SMS account, to the agent's phone.
    case sms
    /// Push to the agent's subscribed browsers (Web Push) and registered phones (FCM, APNs).
    case push
    /// An e-mail to the agent's login address, through the configured relay.
    case email
}

/// A browser's Web Push subscription (`PushSubscription.toJSON()`).
public struct PushSubscription: Sendable, Equatable, Codable {
    public var id: Int64
    public var endpoint: String
    /// The browser's P-256 public key (65 bytes, base64url) and the 16-byte auth secret (base64url).
    public var p256dh: String
    public var auth: String
}

/// An agent's alert settings: media per event, phone for SMS, quiet hours (no SMS then; desktop
/// alerts still show, as the agent is looking at the inbox).
public struct AlertSettings: Sendable, Equatable, Codable {
    public var media: [AlertEvent: [AlertMedium]]
    public var phone: String?
    /// `HH:MM` local times; the quiet period may run over midnight.
    public var quietStart: String?
    public var quietEnd: String?
    public var timeZone: String?

    public init(media: [AlertEvent: [AlertMedium]] = AlertSettings.defaultMedia, phone: String? = nil, quietStart: String? = nil, quietEnd: String? = nil, timeZone: String? = nil) {
        self.media = media
        self.phone = phone
        self.quietStart = quietStart
        self.quietEnd = quietEnd
        self.timeZone = timeZone
    }

    /// Without settings: every event on the desktop only.
    public static let defaultMedia = Dictionary(uniqueKeysWithValues: AlertEvent.allCases.map { ($0, [AlertMedium.desktop]) })

    /// Whether `date` falls in the quiet hours.
    public func isQuiet(at date: Date) -> Bool {
        guard let start = quietStart.flatMap(BusinessHours.minutes), let end = quietEnd.flatMap(BusinessHours.minutes) else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        return start <= end ? (now >= start && now < end) : (now >= start || now < end)
    }

    func validate() throws {
        for time in [quietStart, quietEnd].compactMap({ $0 }) where !BusinessHours.isClockTime(time) {
            throw InboxError.invalid(code: "invalid_quiet_hours", message: "\(time) is not a time like 22:00")
        }
        if (quietStart == nil) != (quietEnd == nil) { throw InboxError.unprocessable(code: "invalid_quiet_hours", message: "give both quietStart and quietEnd") }
        if let zone = timeZone, TimeZone(identifier: zone) == nil { throw InboxError.unprocessable(code: "invalid_time_zone", message: "\(zone) is not a time zone") }
        if media.values.contains(where: { $0.contains(.sms) }), phone?.isEmpty ?? true {
            throw InboxError.unprocessable(code: "no_phone", message: "alerts by SMS need a phone number")
        }
    }
}

/// An alert due to go out.
public struct PendingAlert: Sendable, Equatable {
    /// The alert row's lease; a report on the alert presents it.
    public var lease: Lease
    public var id: Int64 { lease.id }
    public var agentId: Int64
    public var medium: AlertMedium
    public var event: AlertEvent
    public var ticketId: Int64
    /// How many events this alert stands for (a burst of messages is one alert).
    public var count: Int
    /// The latest event's one-line description.
    public var summary: String
    public var attempts: Int
    public var settings: AlertSettings
    /// The agent's (login) e-mail address.
    public var email: String

    /// A short heading (push title, e-mail subject), e.g. "Ticket #12: 3 new messages".
    public var title: String {
        switch event {
        case .newTicket: "Ticket #\(ticketId): new ticket"
        case .customerMessage: count > 1 ? "Ticket #\(ticketId): \(count) new messages" : "Ticket #\(ticketId): new message"
        case .assigned: "Ticket #\(ticketId): assigned to you"
        case .waiting: "Ticket #\(ticketId): waiting in the queue"
        }
    }

    /// The alert's words, e.g. "3 new messages on ticket #12 — Kenji: are you there?".
    public var text: String {
        switch event {
        case .newTicket: "New ticket #\(ticketId): \(summary)"
        case .customerMessage: count > 1 ? "\(count) new messages on ticket #\(ticketId) — \(summary)" : "New message on ticket #\(ticketId) — \(summary)"
        case .assigned: "Ticket #\(ticketId) is now yours: \(summary)"
        case .waiting: "Ticket #\(ticketId) has waited too long in the queue: \(summary)"
        }
    }
}

extension Inbox {
    public func alertSettings(agentId: Int64) async throws -> AlertSettings {
        try await database.pool.read { db in try Self.alertSettings(db, agentId: agentId) }
    }

    public func setAlertSettings(_ settings: AlertSettings, agentId: Int64) async throws -> AlertSettings {
        try settings.validate()
        let now = clock().ms
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO notification_settings (agent_id, media, phone, quiet_start, quiet_end, time_zone, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    agentId, try ContentCoding.encode(settings.media.mapKeys(\.rawValue)), settings.phone, settings.quietStart, settings.quietEnd, settings.timeZone, now,
                ])
        }
        return settings
    }

    static func alertSettings(_ db: Database, agentId: Int64) throws -> AlertSettings {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM notification_settings WHERE agent_id = ?"), arguments: [agentId]) else {
            return AlertSettings()
        }
        let raw = try ContentCoding.decode([String: [AlertMedium]].self, row["media"])
        return AlertSettings(
            media: Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in AlertEvent(rawValue: key).map { ($0, value) } }), phone: row["phone"],
            quietStart: row["quiet_start"], quietEnd: row["quiet_end"], timeZone: row["time_zone"])
    }

    /// Turns what happened since the last call (new tickets, customer messages, assignments —
    /// durable cursors — and tickets queued longer than `waitingAfter`) into alerts for the agents
    /// concerned, on the media each chose. An event on a ticket that already has a pending alert of
    /// its kind for the agent grows that alert's count instead: customer messages wait
    /// `coalesceWindow` before they go, so a burst becomes one alert. Returns how many were queued or grown.
    @discardableResult
    public func feedAlerts(coalesceWindow: TimeInterval, waitingAfter: TimeInterval, limit: Int = 500) async throws -> Int {
        let now = clock()
        // No agents, no alerts, and no write (the first agent moves the cursors to now).
        guard try await database.pool.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM agents LIMIT 1") }) != nil else { return 0 }
        return try await database.pool.write { db in
            var queued = 0
            func alert(_ agentId: Int64, _ event: AlertEvent, ticketId: Int64, summary: String, delay: TimeInterval) throws {
                let settings = try Self.alertSettings(db, agentId: agentId)
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
                // A ticket without a department concerns every agent who may see it (not those
                // restricted to their departments).
                try Int64.fetchAll(db, sql: """
                    SELECT a.id FROM agents a, tickets t WHERE t.id = ? AND a.deactivated_at IS NULL
                        AND (CASE WHEN t.department_id IS NULL THEN a.departments_only = 0
                             ELSE a.id IN (SELECT agent_id FROM department_members WHERE department_id = t.department_id) END)
                    """, arguments: [ticketId])
            }
            func summary(_ ticketId: Int64) throws -> String {
                let row = try Row.fetchOne(db, sql: """
                    SELECT c.display_name, (SELECT text FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1) AS text
                    FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?
                    """, arguments: [ticketId])
                let name: String = row?["display_name"] ?? "a customer"
                return "\(name): \(String((row?["text"] as String? ?? "").prefix(120)))"
            }
            for event in try Self.followLog(db, "notify", types: [.ticketOpened, .message, .history], limit: limit) {
                switch event.type {
                case .ticketOpened:
                    for agent in try departmentAgents(event.ticketId) {
                        try alert(agent, .newTicket, ticketId: event.ticketId, summary: try summary(event.ticketId), delay: 0)
                    }
                case .message:
                    guard event.direction == MessageDirection.inbound.rawValue,
                        let agent = try Int64.fetchOne(db, sql: "SELECT agent_id FROM tickets WHERE id = ?", arguments: [event.ticketId])
                    else { continue }
                    try alert(agent, .customerMessage, ticketId: event.ticketId, summary: try summary(event.ticketId), delay: coalesceWindow)
                default:
                    guard ["assigned", "transferred"].contains(event.kind),
                        let row = try Row.fetchOne(db, sql: "SELECT actor, detail FROM ticket_events WHERE id = ?", arguments: [event.historyId])
                    else { continue }
                    let detail = (try? ContentCoding.decode([String: String].self, row["detail"])) ?? [:]
                    // Keeping a ticket oneself is no news to oneself.
                    guard let agent = detail["agentId"].flatMap(Int64.init), row["actor"] != "agent:\(agent)" else { continue }
                    try alert(agent, .assigned, ticketId: event.ticketId, summary: try summary(event.ticketId), delay: 0)
                }
            }
            let waiting = try Int64.fetchAll(db, sql: """
                SELECT t.id FROM tickets t WHERE t.queued_at IS NOT NULL AND t.queued_at <= ? AND t.agent_id IS NULL AND t.status IN ('new', 'open')
                    AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.ticket_id = t.id AND n.event = 'waiting')
                ORDER BY t.queued_at LIMIT ?
                """, arguments: [now.addingTimeInterval(-waitingAfter).ms, limit])
            for ticketId in waiting {
                for agent in try departmentAgents(ticketId) { try alert(agent, .waiting, ticketId: ticketId, summary: try summary(ticketId), delay: 0) }
            }
            return queued
        }
    }

    /// Adds a browser's push subscription, or renews the keys of the agent's own; an endpoint
    /// another agent registered stays theirs (`endpoint_taken`), so no one can take over another's alerts.
    public func addPushSubscription(agentId: Int64, endpoint: String, p256dh: String, auth: String) async throws -> PushSubscription {
        guard let url = URL(string: endpoint), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw InboxError.unprocessable(code: "invalid_endpoint", message: "endpoint must be the push service's URL")
        }
        guard Base64URL.decode(p256dh)?.count == 65, Base64URL.decode(auth)?.count == 16 else {
            throw InboxError.unprocessable(code: "invalid_keys", message: "keys.p256dh must be a 65-byte P-256 key and keys.auth 16 bytes, base64url")
        }
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            let owner = try Int64.fetchOne(db, sql: "SELECT agent_id FROM push_subscriptions WHERE endpoint = ?", arguments: [endpoint])
            if let owner, owner != agentId {
                throw InboxError.conflict(code: "endpoint_taken", message: "another agent has registered this push endpoint")
            }
            try db.execute(sql: """
                INSERT INTO push_subscriptions (agent_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
                """, arguments: [agentId, endpoint, p256dh, auth, now])
            return try Int64.fetchOne(db, sql: "SELECT id FROM push_subscriptions WHERE endpoint = ?", arguments: [endpoint]) ?? 0
        }
        return PushSubscription(id: id, endpoint: endpoint, p256dh: p256dh, auth: auth)
    }

    public func pushSubscriptions(agentId: Int64) async throws -> [PushSubscription] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM push_subscriptions WHERE agent_id = ? ORDER BY id", arguments: [agentId]).map {
                PushSubscription(id: $0["id"], endpoint: $0["endpoint"], p256dh: $0["p256dh"], auth: $0["auth"])
            }
        }
    }

    /// Forgets a subscription (the agent's choice, or the push service answered that it is gone).
    public func removePushSubscription(id: Int64, agentId: Int64? = nil) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM push_subscriptions WHERE id = ? AND (? IS NULL OR agent_id = ?)", arguments: [id, agentId, agentId])
            guard db.changesCount == 1 || agentId == nil else { throw InboxError.notFound("push subscription \(id)") }
        }
    }

    /// Leases alerts that are due (`LeaseQueue.alerts`).
    public func claimAlerts(limit: Int, lease: TimeInterval) async throws -> [PendingAlert] {
        try await claim(.alerts, limit: limit, lease: lease) { db, leases, _ in
            try Self.rows(db, for: leases, sql: "SELECT n.id AS lease_id, n.*, a.email FROM notifications n LEFT JOIN agents a ON a.id = n.agent_id WHERE n.id IN ({ids})")
                .compactMap { lease, row in
                    guard let medium = AlertMedium(rawValue: row["medium"]), let event = AlertEvent(rawValue: row["event"]) else { return nil }
                    return PendingAlert(
                        lease: lease, agentId: row["agent_id"], medium: medium, event: event, ticketId: row["ticket_id"], count: row["count"],
                        summary: row["summary"], attempts: row["attempts"], settings: try Self.alertSettings(db, agentId: row["agent_id"]),
                        email: row["email"] ?? "")
                }
        }
    }

    /// Records an alert's outcome: sent, suppressed (quiet hours), retry at `next`, or failed.
    public func alertDone(_ alert: PendingAlert, status: String, error: String? = nil, retryAt next: Date? = nil) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            if let next {
                try LeaseQueue.alerts.reschedule(db, alert.lease, at: next.ms, error: error)
            } else {
                try LeaseQueue.alerts.complete(db, alert.lease, status: status, error: error, setting: ["sent_at": status == "sent" ? now : nil])
            }
        }
    }

    /// Moves a feed's cursor over the event log (`<feed>.log`) to the log's head, so a feed that was
    /// idle starts from now instead of acting on history.
    static func moveFeedToNow(_ db: Database, _ feed: String) throws {
        try db.execute(
            sql: "INSERT INTO feed_cursors (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id",
            arguments: ["\(feed).log", try SQLiteEventLogStore.head(db)])
    }
}

extension Dictionary {
    func mapKeys<T: Hashable>(_ transform: (Key) -> T) -> [T: Value] { Dictionary<T, Value>(uniqueKeysWithValues: map { (transform($0.key), $0.value) }) }
}
