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

    public init(id: Int64, endpoint: String, p256dh: String, auth: String) {
        self.id = id
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
    }
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

    public init(
        lease: Lease, agentId: Int64, medium: AlertMedium, event: AlertEvent, ticketId: Int64, count: Int, summary: String, attempts: Int,
        settings: AlertSettings, email: String
    ) {
        self.lease = lease
        self.agentId = agentId
        self.medium = medium
        self.event = event
        self.ticketId = ticketId
        self.count = count
        self.summary = summary
        self.attempts = attempts
        self.settings = settings
        self.email = email
    }

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
        try await stores.alerts.settings(agentId: agentId)
    }

    public func setAlertSettings(_ settings: AlertSettings, agentId: Int64) async throws -> AlertSettings {
        try settings.validate()
        try await stores.alerts.saveSettings(settings, agentId: agentId, now: clock())
        return settings
    }

    /// Turns what happened since the last call (new tickets, customer messages, assignments —
    /// durable cursors — and tickets queued longer than `waitingAfter`) into alerts for the agents
    /// concerned, on the media each chose. An event on a ticket that already has a pending alert of
    /// its kind for the agent grows that alert's count instead: customer messages wait
    /// `coalesceWindow` before they go, so a burst becomes one alert. Returns how many were queued
    /// or grown. Who is concerned is the store's query (`AlertStore.queueAlerts`, `AlertRecipients`).
    @discardableResult
    public func feedAlerts(coalesceWindow: TimeInterval, waitingAfter: TimeInterval, limit: Int = 500) async throws -> Int {
        try await stores.alerts.queueAlerts(coalesceWindow: coalesceWindow, waitingAfter: waitingAfter, limit: limit, now: clock())
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
        let id = try await stores.pushTargets.addSubscription(agentId: agentId, endpoint: endpoint, p256dh: p256dh, auth: auth, now: clock())
        return PushSubscription(id: id, endpoint: endpoint, p256dh: p256dh, auth: auth)
    }

    public func pushSubscriptions(agentId: Int64) async throws -> [PushSubscription] {
        try await stores.pushTargets.subscriptions(agentId: agentId)
    }

    /// Forgets a subscription (the agent's choice, or the push service answered that it is gone).
    public func removePushSubscription(id: Int64, agentId: Int64? = nil) async throws {
        guard try await stores.pushTargets.removeSubscription(id: id, agentId: agentId) || agentId == nil else {
            throw InboxError.notFound("push subscription \(id)")
        }
    }

    /// Leases alerts that are due (`LeaseQueue.alerts`).
    public func claimAlerts(limit: Int, lease: TimeInterval) async throws -> [PendingAlert] {
        try await stores.alerts.claim(limit: limit, lease: lease, now: clock())
    }

    /// Holds a claimed alert another `lease` seconds from now: once its medium's rate limit let it
    /// go, so that the delivery after the wait ends within the lease. `LeaseLost` when another
    /// worker took the alert over meanwhile (that worker delivers it; this one must not).
    public func holdAlert(_ alert: PendingAlert, lease: TimeInterval) async throws -> PendingAlert {
        var held = alert
        held.lease = try await stores.leaseQueues.renew(.alerts, alert.lease, for: lease, now: clock())
        return held
    }

    /// Records an alert's outcome: sent, suppressed (quiet hours), retry at `next`, or failed.
    public func alertDone(_ alert: PendingAlert, status: String, error: String? = nil, retryAt next: Date? = nil) async throws {
        try await stores.alerts.finish(alert, status: status, error: error, retryAt: next, now: clock())
    }

    /// Moves a feed's cursor over the event log (`<feed>.log`) to the log's head, so a feed that was
    /// idle starts from now instead of acting on history.
    static func moveFeedToNow(_ db: Database, _ feed: String) throws {
        try db.execute(
            sql: "INSERT INTO feed_cursors (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id",
            arguments: ["\(feed).log", try SQLiteEventLogStore.head(db)])
    }
}

