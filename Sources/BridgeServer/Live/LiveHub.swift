import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// The agents' live feed behind `/api/v1/live`: who is viewing or typing on which ticket (collision
/// detection), and inbox events (new tickets, messages, assignments, status changes) that the web
/// inbox shows at once and turns into desktop notifications. Each agent gets only what it may read.
///
/// Client → server: `{"type":"viewing"|"typing"|"left","ticketId":N}`; send `viewing` again at least
/// every `viewingTimeout` to stay listed, `typing` lapses back to viewing after `typingTimeout`.
/// Server → client: `hello` (with `seq`, where the connection stands in the event log), the event
/// log's entries the agent may read, in `seq` order (`LoggedEvent`: `ticket_opened`, `message`,
/// `message_status`, `status`, `assigned`, `ticket_updated`, `note`, `history`), `ticket_hidden`
/// when a ticket the agent could read was reassigned or moved out of its reach (a page drops it),
/// `resync` when the asked position is no longer in the log, `heartbeat` (below), `presence`
/// (`ticketId`, `agents: [{agentId, name, state}]`), `notification` (a rule's "notify" action, to the agents it
/// names), `alert` (the agent's desktop alerts: `event`, `ticketId`, `count`, `title`, `body`),
/// and `error` for a refused request.
///
/// Catching up is exact: a page connects with the last `seq` it applied and gets every later entry
/// first, then the live ones, from one pump that reads the log (never from memory), so nothing is
/// missed or reordered after a sleep, a dropped network or a restart. A socket whose buffer
/// overflows is closed: its page reconnects from where it stopped.
///
/// A socket can also die silently (a laptop slept, a NAT or proxy dropped it half-open): no close
/// ever arrives. So every socket gets `{"type":"heartbeat","seq"}` every `heartbeat` (announced in
/// `hello` as `heartbeat`, in seconds), and a page that hears nothing for a few intervals drops the
/// socket and reconnects with its last `seq`. The heartbeat's `seq` is the connection's cursor: every
/// entry up to it that the agent may read has been sent before it on the same socket, so the page
/// may count it as applied (and a later reconnect replays less).
///
/// A socket keeps only the rights its token has now: whenever an agent's access changes (a token
/// revoked, a password changed, the agent deactivated, its role or restrictions changed) the inbox
/// publishes `agentAccessChanged`, and the hub looks that agent's sockets' tokens up again at once:
/// a token that no longer works gets an `access_revoked` error and the socket is closed (1008);
/// otherwise the socket carries on with the agent's current rights.
actor LiveHub: Service {
    enum State: String, Codable { case viewing, typing }

    private struct Connection {
        var actor: Caller
        /// The digest of the agent token the socket was opened with; nil for the admin token.
        let tokenDigest: String?
        let send: AsyncStream<String>.Continuation
        /// The last log entry the connection was sent (or was not allowed to see).
        var cursor: Int64
    }

    /// The most entries replayed to a connecting page; further behind, it gets `resync` and reloads.
    static let maxReplay: Int64 = 1_000
    /// Messages waiting to be written to one socket before it counts as stuck and is closed.
    static let maxBuffered = 2_000
    /// Entries read from the log at a time.
    static let pumpBatch = 500

    private struct Presence {
        var state: State
        var since: ContinuousClock.Instant
    }

    let inbox: Inbox
    let logger: Logger
    let typingTimeout: Duration
    let viewingTimeout: Duration
    let heartbeat: Duration
    private var connections: [UUID: Connection] = [:]
    private var presence: [Int64: [UUID: Presence]] = [:]
    /// Connections closed because their token stopped working, until the socket is gone.
    private var revoked: Set<UUID> = []
    /// Wakes the pump: an inbox event was published, or a connection joined.
    private let wake = WakeSignal()

    init(
        inbox: Inbox, logger: Logger, typingTimeout: Duration = .seconds(6), viewingTimeout: Duration = .seconds(75),
        heartbeat: Duration = .seconds(25)
    ) {
        self.inbox = inbox
        self.logger = logger
        self.typingTimeout = typingTimeout
        self.viewingTimeout = viewingTimeout
        self.heartbeat = heartbeat
    }

    /// A new connection for `actor` (who holds the token with `tokenDigest`): its id and the stream
    /// of JSON texts to write to it. `after` is the last log entry the page applied: the entries
    /// after it are replayed first (or `resync` is sent when they are gone or too many). Call
    /// `revalidate(_:)` once it is connected: a token revoked between the upgrade's check and this
    /// call is caught there.
    func connect(_ actor: Caller, tokenDigest: String? = nil, after: Int64? = nil) async -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(Self.maxBuffered))
        var cursor: Int64 = 0
        var resync = false
        do {
            let position = try await inbox.events(after: after ?? 0, limit: 0, for: actor)
            cursor = position.head
            if let after, !position.resync, position.head - after <= Self.maxReplay {
                cursor = after
            } else {
                resync = after != nil
            }
        } catch {
            logger.error("live log position failed", metadata: ["error": "\(error)"])
            resync = true
        }
        connections[id] = Connection(actor: actor, tokenDigest: tokenDigest, send: continuation, cursor: cursor)
        continuation.yield(Self.json(Hello(type: "hello", agentId: actor.agentId, name: actor.name, seq: cursor, heartbeat: Self.seconds(heartbeat))))
        if resync { continuation.yield(Self.json(Resync(seq: cursor))) }
        wake.signal()
        return (id, stream)
    }

    func disconnect(_ id: UUID) async {
        revoked.remove(id)
        await drop(id)
    }

    /// Whether the hub closed this connection because its token stopped working.
    func wasRevoked(_ id: UUID) -> Bool { revoked.contains(id) }

    /// Looks the connection's token up again: closes it if the token no longer works, or takes the
    /// agent's current rights.
    func revalidate(_ id: UUID) async {
        guard let digest = connections[id]?.tokenDigest else { return }
        let actor: Caller?
        do {
            actor = try await inbox.actor(tokenDigest: digest)
        } catch {
            logger.warning("live token check failed", metadata: ["error": "\(error)"])
            actor = nil
        }
        guard let connection = connections[id] else { return }
        guard let actor else {
            connection.send.yield(Self.error("access_revoked", "this token no longer works (revoked, expired, or the agent was deactivated)"))
            revoked.insert(id)
            await drop(id)
            return
        }
        connections[id]?.actor = actor
    }

    private func revalidate(agentId: Int64) async {
        for (id, connection) in connections where connection.actor.agentId == agentId { await revalidate(id) }
    }

    /// Ends the connection's stream (the socket then closes) and its presence.
    private func drop(_ id: UUID) async {
        connections.removeValue(forKey: id)?.send.finish()
        for ticketId in presence.keys where presence[ticketId]?.removeValue(forKey: id) != nil {
            await publishPresence(ticketId)
        }
    }

    /// A text frame from a client.
    func receive(_ id: UUID, _ text: String) async {
        guard let connection = connections[id] else { return }
        guard let request = try? JSONDecoder().decode(ClientMessage.self, from: Data(text.utf8)), request.ticketId > 0,
            ["viewing", "typing", "left"].contains(request.type)
        else {
            connection.send.yield(Self.error("invalid_message", #"send {"type":"viewing"|"typing"|"left","ticketId":N}"#))
            return
        }
        do {
            try await inbox.authorize(connection.actor, .read, .ticket(request.ticketId))
        } catch let error as InboxError {
            if case .forbidden(let code, let message) = error { connection.send.yield(Self.error(code, message)) }
            if case .notFound = error { connection.send.yield(Self.error("not_found", "ticket \(request.ticketId) does not exist")) }
            return
        } catch {
            return
        }
        let before = presence[request.ticketId]?[id]?.state
        if let state = State(rawValue: request.type) {
            presence[request.ticketId, default: [:]][id] = Presence(state: state, since: .now)
        } else {
            presence[request.ticketId]?.removeValue(forKey: id)
        }
        if before != presence[request.ticketId]?[id]?.state { await publishPresence(request.ticketId) }
    }

    /// Typing lapses to viewing, and viewing without a refresh lapses altogether.
    func sweep(now: ContinuousClock.Instant = .now) async {
        var changed: Set<Int64> = []
        for (ticketId, entries) in presence {
            for (id, entry) in entries {
                if entry.state == .typing, now - entry.since > typingTimeout {
                    presence[ticketId]?[id] = Presence(state: .viewing, since: entry.since)
                    changed.insert(ticketId)
                } else if now - entry.since > viewingTimeout {
                    presence[ticketId]?.removeValue(forKey: id)
                    changed.insert(ticketId)
                }
            }
        }
        for ticketId in changed { await publishPresence(ticketId) }
    }

    /// Follows the event log, handles access changes and rule notifications, and sweeps presence
    /// until shutdown; then closes every connection. The pump also runs every second, for changes
    /// that publish no in-process event.
    func run() async throws {
        let events = inbox.bus.subscribe()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events { await self.forward(event) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        await self.pump()
                        await self.wake.wait(timeout: .seconds(1))
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        await self.sweep()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.heartbeat)
                        await self.beat()
                    }
                }
                await group.next()
                group.cancelAll()
                self.wake.signal()
            }
        }
        for connection in connections.values { connection.send.finish() }
        connections.removeAll()
    }

    /// A `heartbeat` to every connection, with the log position it has been served up to.
    func beat() {
        for connection in connections.values { connection.send.yield(Self.json(Heartbeat(seq: connection.cursor))) }
    }

    /// Sends every connection the log entries after its cursor that its agent may read, in order.
    /// Only the run loop calls it, so entries leave in `seq` order; a connection that joins while
    /// the log is being read is served on the next round.
    func pump() async {
        while let from = connections.values.map(\.cursor).min() {
            let batch: [EventLogSlice.Entry]
            do {
                batch = try await inbox.logEntries(after: from, limit: Self.pumpBatch)
            } catch {
                logger.error("live log read failed", metadata: ["error": "\(error)"])
                return
            }
            guard let last = batch.last?.event.seq else { return }
            for (id, connection) in connections where connection.cursor >= from {
                var stuck = false
                for entry in batch where entry.event.seq > connection.cursor && !stuck {
                    let text: String
                    if connection.actor.may(.read, assignedTo: entry.place.agentId, department: entry.place.departmentId) {
                        text = Self.json(entry.event)
                    } else if let before = entry.event.before, connection.actor.may(.read, assignedTo: before.agentId, department: before.departmentId) {
                        text = Self.json(TicketHidden(seq: entry.event.seq, ticketId: entry.event.ticketId))
                    } else {
                        continue
                    }
                    if case .dropped = connection.send.yield(text) { stuck = true }
                }
                if stuck {
                    logger.warning("live socket fell behind; closing it", metadata: ["agent.id": "\(connection.actor.agentId ?? 0)"])
                    await drop(id)
                } else {
                    connections[id]?.cursor = last
                }
            }
        }
    }

    /// A desktop alert to every open inbox of one agent (the web inbox shows a browser notification,
    /// flashes the title and plays a sound); false when the agent has none open.
    func alert(_ alert: PendingAlert) -> Bool {
        let text = Self.json(AlertMessage(event: alert.event.rawValue, ticketId: alert.ticketId, count: alert.count, title: "Ticket #\(alert.ticketId)", body: alert.text))
        var reached = false
        for connection in connections.values where connection.actor.agentId == alert.agentId {
            connection.send.yield(text)
            reached = true
        }
        return reached
    }

    /// Access changes and rule notifications act at once; anything else wakes the log pump.
    func forward(_ event: InboxEvent) async {
        switch event {
        case .agentAccessChanged(let agentId):
            await revalidate(agentId: agentId)
        case .agentsNotified(let ticketId, let agentIds, let text):
            let note = Self.json(Notification(ticketId: ticketId, text: text))
            for connection in connections.values where connection.actor.agentId.map(agentIds.contains) == true { connection.send.yield(note) }
        default:
            wake.signal()
        }
    }

    private func publishPresence(_ ticketId: Int64) async {
        let agents = (presence[ticketId] ?? [:]).compactMap { id, entry in
            connections[id].map { PresenceMessage.Agent(agentId: $0.actor.agentId, name: $0.actor.name, state: entry.state) }
        }.sorted { ($0.name, $0.state.rawValue) < ($1.name, $1.state.rawValue) }
        if presence[ticketId]?.isEmpty == true { presence.removeValue(forKey: ticketId) }
        await send(Self.json(PresenceMessage(ticketId: ticketId, agents: agents)), aboutTicket: ticketId)
    }

    /// Sends to every connection whose agent may read the ticket.
    private func send(_ text: String, aboutTicket ticketId: Int64) async {
        guard let ticket = try? await inbox.ticket(id: ticketId) else { return }
        for connection in connections.values where connection.actor.may(.read, assignedTo: ticket.agentId, department: ticket.departmentId) {
            connection.send.yield(text)
        }
    }

    private struct ClientMessage: Decodable {
        var type: String
        var ticketId: Int64
    }

    private struct Hello: Encodable {
        var type: String
        var agentId: Int64?
        var name: String
        var seq: Int64
        /// Seconds between heartbeats.
        var heartbeat: Double
    }

    private struct Heartbeat: Encodable {
        var type = "heartbeat"
        var seq: Int64
    }

    private struct Resync: Encodable {
        var type = "resync"
        var seq: Int64
    }

    private struct TicketHidden: Encodable {
        var type = "ticket_hidden"
        var seq: Int64
        var ticketId: Int64
    }

    private struct PresenceMessage: Encodable {
        struct Agent: Encodable {
            var agentId: Int64?
            var name: String
            var state: State
        }
        var type = "presence"
        var ticketId: Int64
        var agents: [Agent]
    }

    private struct AlertMessage: Encodable {
        var type = "alert"
        var event: String
        var ticketId: Int64
        var count: Int
        var title: String
        var body: String
    }

    private struct Notification: Encodable {
        var type = "notification"
        var ticketId: Int64
        var text: String
    }

    private struct ErrorMessage: Encodable {
        var type = "error"
        var code: String
        var message: String
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func error(_ code: String, _ message: String) -> String { json(ErrorMessage(code: code, message: message)) }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
