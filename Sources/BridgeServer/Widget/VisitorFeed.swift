import ChannelKit
import Foundation
import Synchronization
import UniversalInbox

/// A message as the visitor sees it: no notes, no agents' internal labels, no other channel's.
struct VisitorMessage: Codable, Sendable, Equatable {
    var id: Int64
    /// `in`: the visitor wrote it; `out`: the business answered.
    var direction: String
    var text: String
    /// `received` for the visitor's; `queued`, `sent`, `delivered`, `read` or `failed` for replies.
    var status: String
    /// The id receipts name a reply by (`messageId` of a receipt post); nil for the visitor's own.
    var ref: String?
    /// True for an image: the widget fetches it with the visitor's token from
    /// `GET …/messages/{id}/image` (`WidgetImages`); `text` is then its caption, if any.
    var image: Bool?
    var createdAt: Date

    init(_ message: StoredMessage) {
        id = message.id
        direction = message.direction == .inbound ? "in" : "out"
        let image = message.content.kind == .image
        self.image = image ? true : nil
        text = image ? message.content.text ?? "" : message.text
        status = message.status
        ref = message.direction == .inbound ? nil : message.platformMessageId
        createdAt = message.createdAt
    }
}

/// One thing that happened in the visitor's conversation: a message arrived or changed state
/// (`message`, the message as it is now), or the agents started or stopped typing (`typing`).
struct VisitorEvent: Codable, Sendable, Equatable {
    var type: String
    /// Its place in the event log (nil for typing, which is not logged).
    var seq: Int64?
    var message: VisitorMessage?
    var typing: Bool?
    /// `queue`: the chat's place while it waits for an agent (nil once someone has it).
    var queue: VisitorQueue?
}

/// Where the visitor's chat waits for an agent: its place (1 = next) and the expected wait, as the
/// queue notice tells customers on other channels (`QueuePlace`).
struct VisitorQueue: Codable, Sendable, Equatable {
    var position: Int
    var waitMinutes: Int
}

/// What the widget shows of the visitor's chat besides its messages: whether an agent is typing in
/// it, and its place in the queue while it waits for one.
struct VisitorChatState: Sendable, Equatable {
    var othersTyping = false
    var queue: VisitorQueue?

    /// The chat as it is now (one look-up of the visitor's ticket for both); nothing before the
    /// visitor wrote.
    static func of(_ visitor: VisitorLog.Visitor, typing: VisitorTyping) async throws -> VisitorChatState {
        let inbox = typing.inbox
        guard let ticketId = try await inbox.visitorTicket(account: visitor.account, visitorId: visitor.id) else { return VisitorChatState() }
        let place = try await inbox.stores.assignmentStore.queuePlace(ticketId: ticketId)
        return VisitorChatState(
            othersTyping: try await typing.othersTyping(ticketId: ticketId, account: visitor.account, visitorId: visitor.id),
            queue: place.map { VisitorQueue(position: $0.position, waitMinutes: $0.waitMinutes) })
    }
}

/// A page of the visitor's feed: the events after the asked position, and where to ask from next.
struct VisitorFeedPage: Codable, Sendable {
    var events: [VisitorEvent]
    var next: Int64
    /// The asked position is ahead of the log or too far behind it: reload the conversation
    /// (`GET …/messages`) and follow from `next`.
    var resync: Bool
    /// Whether an agent is typing in the visitor's chat now.
    var typing: Bool = false
    /// The chat's place in the queue while it waits for an agent.
    var queue: VisitorQueue?
}

/// The visitor's side of the ordered event log: the same log the agents' live feed follows, read
/// by `seq`, keeping only the entries about messages on the visitor's own identity (checked in
/// the store, never guessed from the entry). The WebSocket and the long-poll both read it, so
/// either catches up exactly after a reconnect. Which entries are the visitor's comes from the
/// process's `VisitorLog`, shared by every feed; a feed behind what it keeps reads the log itself.
struct VisitorFeed: Sendable {
    let log: VisitorLog
    /// The account's key (`webchat/site`) and the visitor's id: the identity whose messages show.
    let visitor: VisitorLog.Visitor
    var account: String { visitor.account }
    var visitorId: String { visitor.id }
    /// The most log entries a position behind what the process's `VisitorLog` keeps may be behind
    /// the log's head; further, the widget reloads instead.
    static let maxReplay: Int64 = 5_000
    static let batch = 500

    var inbox: Inbox { log.inbox }

    func read(after: Int64) async throws -> VisitorFeedPage {
        let window = try await log.current(through: after)
        if window.covers(after) {
            let entries = window.entries(after: after, of: visitor)
            return VisitorFeedPage(events: try await events(entries.map { ($0.seq, $0.messageId) }), next: window.head, resync: false)
        }
        guard after <= window.head, window.head - after <= Self.maxReplay else { return VisitorFeedPage(events: [], next: window.head, resync: true) }
        return try await readLog(after: after, head: window.head)
    }

    /// Follows the log for this visitor: wakes the reader when there is something for it.
    func follow() -> FeedWaker { log.follow(visitor) }

    /// The chat's state now when `waker` says it may have changed (nil otherwise), telling the
    /// waker whether the chat waits in the queue.
    func chatState(_ waker: FeedWaker, typing: VisitorTyping) async throws -> VisitorChatState? {
        guard waker.stateDue() else { return nil }
        let state = try await VisitorChatState.of(visitor, typing: typing)
        waker.found(waiting: state.queue != nil)
        return state
    }

    /// The visitor's entries between `after` and `head`, read from the log.
    private func readLog(after: Int64, head: Int64) async throws -> VisitorFeedPage {
        var cursor = after
        var events: [VisitorEvent] = []
        while cursor < head {
            let slice = try await inbox.logSlice(after: cursor, limit: Self.batch)
            // Entries the feed had not had were pruned: it reloads, as the agents' pages do.
            if slice.prunedThrough > cursor { return VisitorFeedPage(events: [], next: slice.head, resync: true) }
            guard let last = slice.entries.last?.event.seq else { break }
            events += try await self.events(slice.entries.compactMap { entry in entry.event.visitorMessageId.map { (entry.event.seq, $0) } })
            cursor = last
        }
        return VisitorFeedPage(events: events, next: max(cursor, after), resync: false)
    }

    /// The entries (`seq`, message) whose message is on the visitor's identity, as the store says.
    private func events(_ entries: [(seq: Int64, messageId: Int64)]) async throws -> [VisitorEvent] {
        let mine = try await inbox.visitorMessages(account: account, visitorId: visitorId, ids: Array(Set(entries.map(\.messageId))))
        let byId = Dictionary(mine.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return entries.compactMap { entry in
            byId[entry.messageId].map { VisitorEvent(type: "message", seq: entry.seq, message: VisitorMessage($0)) }
        }
    }
}

extension LoggedEvent {
    /// The message a visitor's feed may show for this entry: a message's arrival or a change of its
    /// delivery state.
    var visitorMessageId: Int64? { type == .message || type == .messageStatus ? messageId : nil }
}

/// Wakes a visitor's feed reader (the WebSocket's loop, a long-poll) when there is something for
/// it: the visitor's messages reached the log (`VisitorLog` finds them), the chat may have moved in
/// the queue while it waits there (a ticket was opened, assigned, queued or closed, or an agent was
/// freed), or a `tick` passed (the agents' typing, which no event announces, and anything missed).
/// It looks at the chat's state (queue place, typing) only then (`stateDue`), not after every
/// message in the inbox. Made by `VisitorLog.follow`; it stops following when released.
final class FeedWaker: Sendable {
    /// What the `VisitorLog` holds while the waker lives: whom it follows and how to wake it. The
    /// log never holds the waker itself, so a reader that ends (a socket closed, a poll answered)
    /// releases it and stops following.
    final class Target: Sendable {
        fileprivate struct State {
            var changed = true
            var checkedAt: ContinuousClock.Instant?
            var waiting = false
            var wakes = 0
        }

        let visitor: VisitorLog.Visitor
        fileprivate let signal = WakeSignal()
        fileprivate let state = Mutex(State())

        init(visitor: VisitorLog.Visitor) { self.visitor = visitor }

        /// The visitor's messages reached the log (their first may have opened a chat in the queue).
        func wake() {
            state.withLock { state in
                state.changed = true
                state.wakes += 1
            }
            signal.signal()
        }

        /// A ticket changed somewhere: a chat waiting in the queue may have moved.
        func chatMayHaveChanged() {
            guard state.withLock({ state in
                guard state.waiting else { return false }
                state.changed = true
                return true
            }) else { return }
            signal.signal()
        }
    }

    let target: Target
    let tick: Duration
    private let release: @Sendable (ObjectIdentifier) -> Void

    init(visitor: VisitorLog.Visitor, tick: Duration, release: @escaping @Sendable (ObjectIdentifier) -> Void) {
        target = Target(visitor: visitor)
        self.tick = tick
        self.release = release
    }

    deinit { release(ObjectIdentifier(target)) }

    var visitor: VisitorLog.Visitor { target.visitor }

    /// Events that may change where a waiting chat stands in the queue.
    static func mayChangeState(_ event: InboxEvent) -> Bool {
        switch event {
        case .ticketOpened, .ticketStatusChanged, .ticketAssigned, .ticketQueued, .agentAvailable: true
        default: false
        }
    }

    /// How many times the visitor's messages woke it (for tests).
    var wakes: Int { target.state.withLock { $0.wakes } }

    /// Returns when woken, after a `tick`, or at `deadline` if that comes first.
    func wait(deadline: ContinuousClock.Instant? = nil) async {
        await target.signal.wait(timeout: deadline.map { min(tick, $0 - .now) } ?? tick)
    }

    /// Whether the reader should look at the chat's queue place and typing now: something that may
    /// change them happened since it last did, or a `tick` passed.
    func stateDue(now: ContinuousClock.Instant = .now) -> Bool {
        target.state.withLock { state in
            guard state.changed || state.checkedAt.map({ now - $0 >= tick }) ?? true else { return false }
            (state.changed, state.checkedAt) = (false, now)
            return true
        }
    }

    /// What the reader found: whether the chat waits in the queue (then ticket changes wake it).
    func found(waiting: Bool) { target.state.withLock { $0.waiting = waiting } }
}
