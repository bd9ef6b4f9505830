import ChannelKit
import Foundation
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

    /// The place of the visitor's chat now; nil when it is not waiting (or there is no chat).
    static func of(_ inbox: Inbox, account: String, visitorId: String) async throws -> VisitorQueue? {
        guard let ticketId = try await inbox.visitorTicket(account: account, visitorId: visitorId),
            let place = try await inbox.stores.assignmentStore.queuePlace(ticketId: ticketId)
        else { return nil }
        return VisitorQueue(position: place.position, waitMinutes: place.waitMinutes)
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
/// either catches up exactly after a reconnect.
struct VisitorFeed: Sendable {
    let inbox: Inbox
    /// The account's key (`webchat/site`) and the visitor's id: the identity whose messages show.
    let account: String
    let visitorId: String
    /// The most log entries a position may be behind; further, the widget reloads instead.
    static let maxReplay: Int64 = 5_000
    static let batch = 500

    func read(after: Int64) async throws -> VisitorFeedPage {
        let head = try await inbox.eventLogHead()
        guard after <= head, head - after <= Self.maxReplay else { return VisitorFeedPage(events: [], next: head, resync: true) }
        var cursor = after
        var events: [VisitorEvent] = []
        while cursor < head {
            let entries = try await inbox.logEntries(after: cursor, limit: Self.batch).map(\.event)
            guard let last = entries.last else { break }
            let wanted = entries.filter { ($0.type == .message || $0.type == .messageStatus) && $0.messageId != nil }
            let mine = try await inbox.visitorMessages(account: account, visitorId: visitorId, ids: Array(Set(wanted.compactMap(\.messageId))))
            let byId = Dictionary(mine.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for entry in wanted {
                if let message = entry.messageId.flatMap({ byId[$0] }) {
                    events.append(VisitorEvent(type: "message", seq: entry.seq, message: VisitorMessage(message)))
                }
            }
            cursor = last.seq
        }
        return VisitorFeedPage(events: events, next: max(cursor, after), resync: false)
    }
}

/// Wakes a waiting feed reader when the inbox publishes anything in this process, and at least
/// every `tick` (another process's change reaches the log without an in-process event).
final class FeedWaker: Sendable {
    private let signal = WakeSignal()
    private let listening: InboxEventBus.Listening

    init(inbox: Inbox) {
        let signal = signal
        listening = inbox.bus.listen { _ in signal.signal() }
    }

    func wait(tick: Duration = .seconds(1)) async { await signal.wait(timeout: tick) }
}
