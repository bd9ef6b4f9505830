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
/// Server → client: `hello`, `presence` (`ticketId`, `agents: [{agentId, name, state}]`),
/// `ticket_opened`, `message`, `assigned`, `status`, `notification` (a rule's "notify" action, to the
/// agents it names), `alert` (the agent's desktop alerts: `event`, `ticketId`, `count`, `title`,
/// `body`), and `error` for a refused request.
///
/// A socket keeps only the rights its token has now: whenever an agent's access changes (a token
/// revoked, a password changed, the agent deactivated, its role or restrictions changed) the inbox
/// publishes `agentAccessChanged`, and the hub looks that agent's sockets' tokens up again at once:
/// a token that no longer works gets an `access_revoked` error and the socket is closed (1008);
/// otherwise the socket carries on with the agent's current rights.
actor LiveHub: Service {
    enum State: String, Codable { case viewing, typing }

    private struct Connection {
        var actor: Actor
        /// The digest of the agent token the socket was opened with; nil for the admin token.
        let tokenDigest: String?
        let send: AsyncStream<String>.Continuation
    }

    private struct Presence {
        var state: State
        var since: ContinuousClock.Instant
    }

    let inbox: Inbox
    let logger: Logger
    let typingTimeout: Duration
    let viewingTimeout: Duration
    private var connections: [UUID: Connection] = [:]
    private var presence: [Int64: [UUID: Presence]] = [:]
    /// Connections closed because their token stopped working, until the socket is gone.
    private var revoked: Set<UUID> = []

    init(inbox: Inbox, logger: Logger, typingTimeout: Duration = .seconds(6), viewingTimeout: Duration = .seconds(75)) {
        self.inbox = inbox
        self.logger = logger
        self.typingTimeout = typingTimeout
        self.viewingTimeout = viewingTimeout
    }

    /// A new connection for `actor` (who holds the token with `tokenDigest`): its id and the stream
    /// of JSON texts to write to it. Call `revalidate(_:)` once it is connected: a token revoked
    /// between the upgrade's check and this call is caught there.
    func connect(_ actor: Actor, tokenDigest: String? = nil) -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1000))
        connections[id] = Connection(actor: actor, tokenDigest: tokenDigest, send: continuation)
        continuation.yield(Self.json(Hello(type: "hello", agentId: actor.agentId, name: actor.name)))
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
        let actor: Actor?
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

    /// Forwards inbox events and sweeps presence until shutdown; then closes every connection.
    func run() async throws {
        let events = inbox.bus.subscribe()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events { await self.forward(event) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        await self.sweep()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        for connection in connections.values { connection.send.finish() }
        connections.removeAll()
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

    func forward(_ event: InboxEvent) async {
        if case .agentAccessChanged(let agentId) = event {
            await revalidate(agentId: agentId)
            return
        }
        if case .agentsNotified(let ticketId, let agentIds, let text) = event {
            let note = Self.json(Notification(ticketId: ticketId, text: text))
            for connection in connections.values where connection.actor.agentId.map(agentIds.contains) == true { connection.send.yield(note) }
            return
        }
        let message: (ticketId: Int64, text: String)? =
            switch event {
            case .ticketOpened(let ticketId): (ticketId, Self.json(TicketEvent(type: "ticket_opened", ticketId: ticketId)))
            case .messageReceived(let ticketId, let messageId):
                (ticketId, Self.json(TicketEvent(type: "message", ticketId: ticketId, messageId: messageId, direction: "in")))
            case .messageQueued(let ticketId, let messageId):
                (ticketId, Self.json(TicketEvent(type: "message", ticketId: ticketId, messageId: messageId, direction: "out")))
            case .ticketAssigned(let ticketId, let agentId): (ticketId, Self.json(TicketEvent(type: "assigned", ticketId: ticketId, agentId: agentId)))
            case .ticketStatusChanged(let ticketId, let status):
                (ticketId, Self.json(TicketEvent(type: "status", ticketId: ticketId, status: status.rawValue)))
            default: nil
            }
        guard let message, !connections.isEmpty else { return }
        await send(message.text, aboutTicket: message.ticketId)
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

    private struct TicketEvent: Encodable {
        var type: String
        var ticketId: Int64
        var messageId: Int64?
        var direction: String?
        var agentId: Int64?
        var status: String?
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

    private static func error(_ code: String, _ message: String) -> String { json(ErrorMessage(code: code, message: message)) }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
