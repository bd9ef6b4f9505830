import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `AlertStore` on PostgreSQL, for several bridge processes on one database.
///
/// **The feed runs once per log entry.** `queueAlerts` locks the `notify.log` cursor row
/// (`FOR UPDATE`) before reading it, and moves it in the same transaction: a second process feeding
/// at the same time waits for the first to commit, then reads the moved cursor, so no entry is
/// turned into alerts twice; its check for tickets that already have a waiting alert runs after
/// the wait too, so a ticket gets one waiting alert. It reads entries only up to the log's head as
/// read first: entries are numbered under a row lock on `event_seq`, so every entry up to a
/// committed head is committed, and the cursor never passes one it has not seen.
///
/// Claims run the shared lease queue (`PostgresLeaseQueue.swift`) and read what sending needs in
/// the same transaction.
public struct PostgresAlertStore: AlertStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func settings(agentId: Int64) async throws -> AlertSettings {
        try await client.withConnection { try await Self.settings($0, agentId: agentId, logger: logger) }
    }

    public func saveSettings(_ settings: AlertSettings, agentId: Int64, now: Date) async throws {
        let media = try settings.storedMedia
        try await client.query("""
            INSERT INTO notification_settings (agent_id, media, phone, quiet_start, quiet_end, time_zone, updated_at)
            VALUES (\(agentId), \(media), \(settings.phone), \(settings.quietStart), \(settings.quietEnd), \(settings.timeZone), \(now.ms))
            ON CONFLICT (agent_id) DO UPDATE SET media = excluded.media, phone = excluded.phone, quiet_start = excluded.quiet_start,
                quiet_end = excluded.quiet_end, time_zone = excluded.time_zone, updated_at = excluded.updated_at
            """, logger: logger)
    }

    static func settings(_ connection: PostgresConnection, agentId: Int64, logger: Logger) async throws -> AlertSettings {
        let rows = try await connection.query(
            "SELECT media, phone, quiet_start, quiet_end, time_zone FROM notification_settings WHERE agent_id = \(agentId)", logger: logger)
        for try await (media, phone, quietStart, quietEnd, timeZone) in rows.decode((String, String?, String?, String?, String?).self) {
            return try AlertSettings(storedMedia: media, phone: phone, quietStart: quietStart, quietEnd: quietEnd, timeZone: timeZone)
        }
        return AlertSettings()
    }

    public func queueAlerts(coalesceWindow: TimeInterval, waitingAfter: TimeInterval, limit: Int, now: Date) async throws -> Int {
        // No agents, no alerts, and no write (the first agent moves the cursor to now).
        guard try await exists(try await client.query("SELECT 1 FROM agents LIMIT 1", logger: logger)) else { return 0 }
        return try await client.transaction(logger: logger) { connection in
            let feed = Feed(connection: connection, logger: logger, now: now)
            var queued = 0
            for event in try await feed.follow(limit: limit) {
                switch event.type {
                case .ticketOpened:
                    for agent in try await feed.departmentAgents(event.ticketId) { queued += try await feed.alert(agent, .newTicket, ticketId: event.ticketId, delay: 0) }
                case .message:
                    guard event.direction == MessageDirection.inbound.rawValue, let agent = try await feed.assignee(event.ticketId) else { continue }
                    queued += try await feed.alert(agent, .customerMessage, ticketId: event.ticketId, delay: coalesceWindow)
                default:
                    guard AlertRecipients.assignmentKinds.contains(event.kind ?? ""), let historyId = event.historyId,
                        let agent = try await feed.assignedBy(historyId: historyId, kind: event.kind)
                    else { continue }
                    queued += try await feed.alert(agent, .assigned, ticketId: event.ticketId, delay: 0)
                }
            }
            for ticketId in try await feed.waitingTickets(since: now.addingTimeInterval(-waitingAfter), limit: limit) {
                for agent in try await feed.departmentAgents(ticketId) { queued += try await feed.alert(agent, .waiting, ticketId: ticketId, delay: 0) }
            }
            return queued
        }
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [PendingAlert] {
        return try await LeaseQueue.alerts.claim(with: client, limit: limit, lease: lease, now: now, logger: logger) { connection, leases in
            let rows = try await connection.query("""
                SELECT n.id, n.agent_id, n.medium, n.event, n.ticket_id, n.count, n.summary, n.attempts, a.email
                FROM notifications n LEFT JOIN agents a ON a.id = n.agent_id WHERE n.id = ANY(\(leases.map(\.id)))
                """, logger: logger)
            var byId: [Int64: (agentId: Int64, medium: AlertMedium, event: AlertEvent, ticketId: Int64, count: Int, summary: String, attempts: Int, email: String)] = [:]
            for try await (id, agentId, medium, event, ticketId, count, summary, attempts, email)
                in rows.decode((Int64, Int64, String, String, Int64, Int, String, Int, String?).self)
            {
                // A medium or event this binary does not know (a newer writer's) stays claimed and runs out, as on SQLite.
                guard let medium = AlertMedium(rawValue: medium), let event = AlertEvent(rawValue: event) else { continue }
                byId[id] = (agentId, medium, event, ticketId, count, summary, attempts, email ?? "")
            }
            var alerts: [PendingAlert] = []
            for lease in leases {
                guard let row = byId[lease.id] else { continue }
                alerts.append(PendingAlert(
                    lease: lease, agentId: row.agentId, medium: row.medium, event: row.event, ticketId: row.ticketId, count: row.count,
                    summary: row.summary, attempts: row.attempts, settings: try await Self.settings(connection, agentId: row.agentId, logger: logger),
                    email: row.email))
            }
            return alerts
        }
    }

    public func finish(_ alert: PendingAlert, status: String, error: String?, retryAt next: Date?, now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            if let next {
                try await LeaseQueue.alerts.reschedule(on: connection, alert.lease, at: next.ms, error: error, logger: logger)
            } else {
                try await LeaseQueue.alerts.complete(
                    on: connection, alert.lease, status: status, error: error, setting: ["sent_at": status == "sent" ? now.ms : nil], logger: logger)
            }
        }
    }

    private func exists(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }

}

/// One run of the alert feed, on the transaction's connection.
private struct Feed {
    let connection: PostgresConnection
    let logger: Logger
    let now: Date

    /// The followed entries past the `notify.log` cursor, up to `limit` and the head, with the
    /// cursor locked and moved past them.
    func follow(limit: Int) async throws -> [LoggedEvent] {
        let read = try await PostgresFeedRead.read(
            connection, cursor: "notify.log", kinds: AlertRecipients.followedKinds, limit: limit, lockingCursor: true, logger: logger)
        let next = read.next
        try await connection.query("""
            INSERT INTO feed_cursors (name, last_id) VALUES ('notify.log', \(next))
            ON CONFLICT (name) DO UPDATE SET last_id = greatest(feed_cursors.last_id, excluded.last_id)
            """, logger: logger)
        return read.events
    }

    func departmentAgents(_ ticketId: Int64) async throws -> [Int64] {
        try await ids(AlertRecipients.departmentAgentsSQL, [ticketId])
    }

    func waitingTickets(since: Date, limit: Int) async throws -> [Int64] {
        try await ids(AlertRecipients.waitingTicketsSQL, [since.ms, Int64(limit)])
    }

    /// The ticket's assignee.
    func assignee(_ ticketId: Int64) async throws -> Int64? {
        for try await agent in try await connection.query("SELECT agent_id FROM tickets WHERE id = \(ticketId)", logger: logger).decode(Int64?.self) {
            return agent
        }
        return nil
    }

    /// Whom a history entry gave the ticket to (`AlertRecipients.assignee`).
    func assignedBy(historyId: Int64, kind: String?) async throws -> Int64? {
        for try await (actor, detail) in try await connection.query("SELECT actor, detail FROM ticket_events WHERE id = \(historyId)", logger: logger)
            .decode((String, String).self)
        {
            return AlertRecipients.assignee(kind: kind, actor: actor, detail: detail)
        }
        return nil
    }

    /// Queues the alert on each medium the agent chose for `event`, or grows its pending one.
    /// Returns how many were queued or grown.
    func alert(_ agentId: Int64, _ event: AlertEvent, ticketId: Int64, delay: TimeInterval) async throws -> Int {
        let settings = try await PostgresAlertStore.settings(connection, agentId: agentId, logger: logger)
        let summary = try await self.summary(ticketId)
        for medium in settings.media[event] ?? [] {
            var grown = false
            for try await _ in try await connection.query("""
                UPDATE notifications SET count = count + 1, summary = \(summary)
                WHERE agent_id = \(agentId) AND medium = \(medium.rawValue) AND event = \(event.rawValue) AND ticket_id = \(ticketId) AND status = 'pending'
                RETURNING id
                """, logger: logger)
            {
                grown = true
            }
            if !grown {
                try await connection.query("""
                    INSERT INTO notifications (agent_id, medium, event, ticket_id, summary, due_at, created_at)
                    VALUES (\(agentId), \(medium.rawValue), \(event.rawValue), \(ticketId), \(summary), \(now.addingTimeInterval(delay).ms), \(now.ms))
                    """, logger: logger)
            }
        }
        return settings.media[event]?.count ?? 0
    }

    private func summary(_ ticketId: Int64) async throws -> String {
        for try await (name, text) in try await connection.query(PostgresQuery.shared(AlertRecipients.summarySQL, [ticketId]), logger: logger)
            .decode((String?, String?).self)
        {
            return AlertRecipients.summary(name: name, text: text)
        }
        return AlertRecipients.summary(name: nil, text: nil)
    }

    private func ids(_ sql: String, _ arguments: [Int64]) async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await connection.query(PostgresQuery.shared(sql, arguments.map { $0 }), logger: logger).decode(Int64.self) { ids.append(id) }
        return ids
    }
}
