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
///
/// Several processes: presence is kept in a `PresenceStore` (in memory on SQLite, where one process
/// serves the database; a table on PostgreSQL), and a ticket's `presence` message lists every
/// process's entries. Each process writes its own connections' entries and follows the store's
/// changes; on PostgreSQL a `PostgresLogListener` calls `wake(_:)` when another process appended to
/// the log or changed presence, and both loops also run every second without it.
actor LiveHub: Service {
    typealias State = PresenceEntry.State

    /// What another process changed: the event log, or presence.
    enum Wake { case log, presence }

    private struct Connection {
        var actor: Caller
        /// The digest of the agent token the socket was opened with; nil for the admin token.
        let tokenDigest: String?
        let send: AsyncStream<String>.Continuation
        /// The last log entry the connection was sent (or was not allowed to see).
        var cursor: Int64
        /// How many times `revalidate` has taken the agent's rights again: a message checked under
        /// older rights is checked again under the new ones.
        var rightsTaken = 0
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
    /// This process's connections' presence (the store holds every process's).
    private var presence: [Int64: [UUID: Presence]] = [:]
    let presenceStore: any PresenceStore
    /// Names this process's entries in the store.
    let processId: String
    /// The agents last published per ticket (absent: none), so a change seen twice (made here, then
    /// read back from the store's changes) or a change that reads the same is not sent again.
    private var published: [Int64: [PresenceMessage.Agent]] = [:]
    /// The latest presence read started per ticket: an older read that finishes later is dropped.
    private var presenceReads: [Int64: Int] = [:]
    private var presenceReadCount = 0
    /// Where this hub stands in the store's changes; nil until the presence loop starts.
    private var presenceVersion: Int64?
    /// Connections closed because their token stopped working, until the socket is gone.
    private var revoked: Set<UUID> = []
    /// Wakes the pump: an inbox event was published, a connection joined, or another process wrote.
    private let pumpWake = WakeSignal()
    /// Wakes the presence loop: another process changed presence.
    private let presenceWake = WakeSignal()

    init(
        inbox: Inbox, logger: Logger, typingTimeout: Duration = .seconds(6), viewingTimeout: Duration = .seconds(75),
        heartbeat: Duration = .seconds(25), presenceStore: any PresenceStore = InMemoryPresenceStore(), processId: String = UUID().uuidString
    ) {
        self.inbox = inbox
        self.logger = logger
        self.typingTimeout = typingTimeout
        self.viewingTimeout = viewingTimeout
        self.heartbeat = heartbeat
        self.presenceStore = presenceStore
        self.processId = processId
    }

    /// Another process appended to the event log or changed presence (a `PostgresLogListener`'s
    /// notification, or its reconnection): the matching loop runs now instead of within a second.
    nonisolated func wake(_ what: Wake) {
        switch what {
        case .log: pumpWake.signal()
        case .presence: presenceWake.signal()
        }
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
        pumpWake.signal()
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
        connections[id]?.rightsTaken += 1
        // Nor is the agent listed any longer on a ticket the new rights do not let it read.
        for ticketId in presence.keys.filter({ presence[$0]?[id] != nil }).sorted() {
            guard let current = connections[id] else { return }
            if case .refused = await readCheck(ticketId, current.actor) { await takeBack(id, from: ticketId) }
        }
    }

    private func revalidate(agentId: Int64) async {
        for (id, connection) in connections where connection.actor.agentId == agentId { await revalidate(id) }
    }

    /// Ends the connection's stream (the socket then closes) and its presence.
    private func drop(_ id: UUID) async {
        connections.removeValue(forKey: id)?.send.finish()
        let tickets = presence.keys.filter { presence[$0]?.removeValue(forKey: id) != nil }
        guard !tickets.isEmpty else { return }
        await storePresence { try await $0.remove(connectionId: id, ticketId: nil) }
        for ticketId in tickets.sorted() { await publishPresence(ticketId) }
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
        guard let state = State(rawValue: request.type) else {
            // `left`: taking back one's own entry needs no right to the ticket.
            if presence[request.ticketId]?[id] != nil { await takeBack(id, from: request.ticketId) }
            return
        }
        var rights = connection.rightsTaken
        guard await mayRead(request.ticketId, connection) else { return }
        let before = presence[request.ticketId]?[id]?.state
        // Every `viewing` refreshes the entry's expiry in the store; only a new state is published.
        let entry = Presence(state: state, since: .now)
        presence[request.ticketId, default: [:]][id] = entry
        await storePresence(entry, of: id, on: request.ticketId)
        var toPublish = before != state
        // The agent's rights may change while this is checked, written or published (an access
        // change, `revalidate`): checked again under the new ones until they hold still. Refused
        // now, the entry is taken back, so the message is still answered (presence goes only to
        // those who may read the ticket, by their rights of the moment) and the ticket does not
        // show an agent who may no longer read it.
        while true {
            guard let current = connections[id] else {
                // Dropped meanwhile: an entry written after the drop took back the others goes too.
                presence[request.ticketId]?.removeValue(forKey: id)
                await storePresence { try await $0.remove(connectionId: id, ticketId: request.ticketId) }
                return
            }
            if current.rightsTaken != rights {
                rights = current.rightsTaken
                guard await mayRead(request.ticketId, current) else {
                    await takeBack(id, from: request.ticketId)
                    return
                }
            } else if toPublish {
                toPublish = false
                await publishPresence(request.ticketId)
            } else {
                return
            }
        }
    }

    private enum ReadCheck {
        case allowed
        /// With the error to send, if any.
        case refused(String?)
        /// The check itself failed (the store): nothing is known.
        case failed
    }

    private func readCheck(_ ticketId: Int64, _ actor: Caller) async -> ReadCheck {
        do {
            try await inbox.authorize(actor, .read, .ticket(ticketId))
            return .allowed
        } catch let error as InboxError {
            switch error {
            case .forbidden(let code, let message): return .refused(Self.error(code, message))
            case .notFound: return .refused(Self.error("not_found", "ticket \(ticketId) does not exist"))
            default: return .refused(nil)
            }
        } catch {
            return .failed
        }
    }

    /// Whether the connection's agent may read the ticket; when not, the connection is told why.
    private func mayRead(_ ticketId: Int64, _ connection: Connection) async -> Bool {
        switch await readCheck(ticketId, connection.actor) {
        case .allowed: return true
        case .refused(let error):
            if let error { connection.send.yield(error) }
            return false
        case .failed: return false
        }
    }

    /// Takes the connection's entry on the ticket back, in the store too, and publishes the change.
    private func takeBack(_ id: UUID, from ticketId: Int64) async {
        presence[ticketId]?.removeValue(forKey: id)
        await storePresence { try await $0.remove(connectionId: id, ticketId: ticketId) }
        await publishPresence(ticketId)
    }

    /// Writes one of this process's entries to the store; it lapses `viewingTimeout` after `since`
    /// unless refreshed (on the wall clock the processes share).
    private func storePresence(_ entry: Presence, of id: UUID, on ticketId: Int64) async {
        guard let actor = connections[id]?.actor else { return }
        let expiresAt = Self.date(entry.since).addingTimeInterval(Self.seconds(viewingTimeout))
        await storePresence {
            try await $0.set(
                PresenceEntry(
                    connectionId: id, processId: processId, agentId: actor.agentId, agentName: actor.name, ticketId: ticketId,
                    state: entry.state, expiresAt: expiresAt))
        }
    }

    private func storePresence(_ write: (any PresenceStore) async throws -> Void) async {
        do {
            try await write(presenceStore)
        } catch where !Task.isCancelled {
            logger.error("live presence write failed", metadata: ["error": "\(error)"])
        } catch {}
    }

    /// The wall-clock time of `instant` (the store's times are wall-clock, shared by processes).
    private static func date(_ instant: ContinuousClock.Instant) -> Date {
        Date.now.addingTimeInterval(seconds(instant - .now))
    }

    /// Typing lapses to viewing, and viewing without a refresh lapses altogether; then the entries
    /// a dead process left behind are cleared from the store once they expire (the presence loop
    /// publishes those changes).
    func sweep(now: ContinuousClock.Instant = .now) async {
        var changed: Set<Int64> = []
        for (ticketId, entries) in presence {
            for (id, entry) in entries {
                if entry.state == .typing, now - entry.since > typingTimeout {
                    let lapsed = Presence(state: .viewing, since: entry.since)
                    presence[ticketId]?[id] = lapsed
                    await storePresence(lapsed, of: id, on: ticketId)
                    changed.insert(ticketId)
                } else if now - entry.since > viewingTimeout {
                    presence[ticketId]?.removeValue(forKey: id)
                    await storePresence { try await $0.remove(connectionId: id, ticketId: ticketId) }
                    changed.insert(ticketId)
                }
            }
        }
        let date = Self.date(now)
        for ticketId in changed.sorted() { await publishPresence(ticketId, now: date) }
        await storePresence { [processId] in try await $0.expire(now: date, sparing: processId) }
    }

    /// Publishes the tickets whose presence another process changed (this process's own changes,
    /// read back here too, were published already and read the same).
    func followPresence() async {
        do {
            // From the beginning at start: presence other processes set before this hub first looked
            // (its agents may have connected already) is published too.
            let changes = try await presenceStore.changes(after: presenceVersion ?? 0)
            presenceVersion = changes.version
            var tickets = Set(changes.ticketIds)
            if changes.resync { tickets.formUnion(published.keys) }
            for ticketId in tickets.sorted() { await publishPresence(ticketId) }
        } catch {
            logger.error("live presence read failed", metadata: ["error": "\(error)"])
        }
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
                        await self.pumpWake.wait(timeout: .seconds(1))
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        await self.followPresence()
                        await self.presenceWake.wait(timeout: .seconds(1))
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
                self.pumpWake.signal()
                self.presenceWake.signal()
            }
        }
        for connection in connections.values { connection.send.finish() }
        // Other processes stop listing this one's agents at once, not when their entries expire.
        let present = Set(presence.values.flatMap(\.keys))
        connections.removeAll()
        presence.removeAll()
        for id in present { await storePresence { try await $0.remove(connectionId: id, ticketId: nil) } }
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
            pumpWake.signal()
        }
    }

    /// Sends the ticket's presence, every process's entries, to every connection whose agent may
    /// read the ticket, unless it reads as last sent. Reads overlap (the actor is re-entered while
    /// one waits), so only the latest started read for a ticket is sent.
    private func publishPresence(_ ticketId: Int64, now: Date = .now) async {
        if presence[ticketId]?.isEmpty == true { presence.removeValue(forKey: ticketId) }
        presenceReadCount += 1
        let read = presenceReadCount
        presenceReads[ticketId] = read
        let entries: [PresenceEntry]
        do {
            entries = try await presenceStore.presence(ticketId: ticketId, now: now)
        } catch {
            logger.error("live presence read failed", metadata: ["error": "\(error)"])
            return
        }
        let ticket = try? await inbox.ticket(id: ticketId)
        guard presenceReads[ticketId] == read else { return }
        presenceReads.removeValue(forKey: ticketId)
        let agents = entries.map { PresenceMessage.Agent(agentId: $0.agentId, name: $0.agentName, state: $0.state) }
            .sorted { ($0.name, $0.state.rawValue) < ($1.name, $1.state.rawValue) }
        guard agents != published[ticketId] ?? [] else { return }
        published[ticketId] = agents.isEmpty ? nil : agents
        guard let ticket else { return }
        let text = Self.json(PresenceMessage(ticketId: ticketId, agents: agents))
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
        struct Agent: Encodable, Equatable {
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
