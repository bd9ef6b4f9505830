import ChannelKit
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// One process's reading of the event log for every website visitor's feed (`VisitorFeed`): the
/// log is read once for all of them, whose each new message is is asked once
/// (`messageIdentities`), and only the feeds with something new are woken (`FeedWaker`). Every
/// open widget used to wake on every event in the inbox and read the log and the store itself (a
/// hundred widgets open made each message a hundred reads of each).
///
/// It keeps the entries about messages on website visitors' identities, after `start` (where this
/// process began to read, moved on when more than `capacity` are kept, when it fell more than
/// `VisitorFeed.maxReplay` behind while nobody followed, or when the log was pruned past it); a
/// feed behind that reads the log itself. Its own loop (`run`) reads the log whenever something
/// was published in this process, another process wrote to it (`moved()`, from the PostgreSQL
/// listener), and at least every second while a feed follows, and wakes the feeds it found news
/// for. A feed asking takes the window as it is; it reads the log only when the window is older
/// than `freshness` (the loop stalled) or ends before the position the feed asks from.
actor VisitorLog: Service {
    /// A message entry on a website visitor's identity.
    struct Entry: Sendable, Equatable {
        var seq: Int64
        var messageId: Int64
        var visitor: Visitor
    }

    /// A website visitor: the account's key (`webchat/site`) and the visitor's id.
    struct Visitor: Hashable, Sendable {
        var account: String
        var id: String
    }

    /// Every visitor's message entry after `start`, up to `head`, in `seq` order.
    struct Window: Sendable {
        var start: Int64
        var head: Int64
        var entries: [Entry]

        /// Whether a feed at `after` can be served from here.
        func covers(_ after: Int64) -> Bool { after >= start && after <= head }

        /// The visitor's entries after `after`.
        func entries(after: Int64, of visitor: Visitor) -> [Entry] {
            entries[firstIndex(after: after)...].filter { $0.visitor == visitor }
        }

        /// Where the entries after `seq` begin (they are in `seq` order).
        func firstIndex(after seq: Int64) -> Int {
            var (low, high) = (0, entries.count)
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].seq > seq { high = middle } else { low = middle + 1 }
            }
            return low
        }
    }

    /// What the bus and the feeds share outside the actor: whether the window may be behind the log,
    /// and who follows (the bus wakes feeds from its own thread).
    private final class Shared: Sendable {
        let stale = Atomic<Bool>(true)
        /// How many times the inbox published since this was made (for tests: what has been seen).
        let published = Atomic<Int>(0)
        let followers = Mutex<[ObjectIdentifier: FeedWaker.Target]>([:])
        let wake = WakeSignal()
    }

    let inbox: Inbox
    let freshness: Duration
    /// The most entries kept; past it the oldest go and `start` moves on.
    let capacity: Int
    private let shared = Shared()
    private let listening: InboxEventBus.Listening
    private var window: Window?
    private var readAt: ContinuousClock.Instant?
    private var reading: Task<Window, any Error>?
    /// How many times the log was read (for tests: feeds share reads).
    private(set) var reads = 0

    init(inbox: Inbox, freshness: Duration = .seconds(3), capacity: Int = 20_000) {
        self.inbox = inbox
        self.freshness = freshness
        self.capacity = capacity
        let shared = shared
        listening = inbox.bus.listen { events in
            shared.stale.store(true, ordering: .sequentiallyConsistent)
            shared.published.add(1, ordering: .sequentiallyConsistent)
            if events.contains(where: Self.movesMessages) { shared.wake.signal() }
            if events.contains(where: FeedWaker.mayChangeState) {
                for follower in shared.followers.withLock({ Array($0.values) }) { follower.chatMayHaveChanged() }
            }
        }
    }

    /// Whether an event may have put a visitor's message in the log (or changed one's state).
    private static func movesMessages(_ event: InboxEvent) -> Bool {
        switch event {
        case .messageReceived, .messageQueued, .messageStatusChanged: true
        default: false
        }
    }

    /// How many times the inbox has published since this was made (each has marked it stale).
    nonisolated var published: Int { shared.published.load(ordering: .sequentiallyConsistent) }

    /// Another process appended to the log: read it now.
    nonisolated func moved() {
        shared.stale.store(true, ordering: .sequentiallyConsistent)
        shared.wake.signal()
    }

    /// A feed's waker for `visitor`: woken when the visitor's messages reach the log, when the chat's
    /// state may have changed while it waits in the queue, and every `tick`. It follows until released.
    nonisolated func follow(_ visitor: Visitor, tick: Duration = .seconds(1)) -> FeedWaker {
        let waker = FeedWaker(visitor: visitor, tick: tick) { [shared] id in _ = shared.followers.withLock { $0.removeValue(forKey: id) } }
        shared.followers.withLock { $0[ObjectIdentifier(waker.target)] = waker.target }
        return waker
    }

    /// How many feeds follow now.
    nonisolated var following: Int { shared.followers.withLock { $0.count } }

    /// Reads the log whenever it moved (at least every second) while any feed follows, waking the
    /// feeds whose visitors' messages it finds.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.shared.wake.wait(timeout: .seconds(1))
                guard !Task.isCancelled, self.shared.followers.withLock({ !$0.isEmpty }) else { continue }
                try? await self.catchUp()
            }
        }
    }

    /// The window for a feed at `seq`: as it is, unless it is older than `freshness` or ends before
    /// `seq` (a position the feed had from the log itself, e.g. the head its session began at, which
    /// another process or a commit not yet published put there); then after a read (one in
    /// progress is waited for first, and may do).
    func current(through seq: Int64 = 0) async throws -> Window {
        if let window = usable(through: seq) { return window }
        if let reading, let read = try? await reading.value, read.head >= seq { return read }
        while let reading { _ = try? await reading.value }
        if let window = usable(through: seq) { return window }
        return try await read()
    }

    private func usable(through seq: Int64) -> Window? {
        guard let window, let readAt, window.head >= seq, ContinuousClock.now - readAt < freshness else { return nil }
        return window
    }

    /// The loop's read: reads the log now if anything moved since the last read (or a second
    /// passed), sharing a read in progress, and so wakes the feeds with news.
    func catchUp() async throws {
        if let reading {
            _ = try await reading.value
            return
        }
        guard shared.stale.load(ordering: .sequentiallyConsistent) || readAt.map({ ContinuousClock.now - $0 >= .seconds(1) }) ?? true else { return }
        _ = try await read()
    }

    /// Starts a read (none is in progress: callers check, and nothing suspends between).
    private func read() async throws -> Window {
        shared.stale.store(false, ordering: .sequentiallyConsistent)
        let task = Task { try await self.refresh() }
        reading = task
        return try await task.value
    }

    /// Reads the log into the window and wakes the feeds of the visitors it found new entries of.
    /// It ends the shared read itself, before its task completes: a feed waiting on the task then
    /// finds no read in progress (had the asker cleared it after its own wait, a waiter resumed
    /// first would find the finished task again, and again).
    private func refresh() async throws -> Window {
        defer { reading = nil }
        do {
            let previous = window
            let read = try await Self.read(inbox, after: previous, capacity: capacity)
            (window, readAt, reads) = (read, .now, reads + 1)
            let known = previous?.head ?? read.head
            let found = Set(read.entries[read.firstIndex(after: known)...].map(\.visitor))
            if !found.isEmpty {
                for follower in shared.followers.withLock({ Array($0.values) }) where found.contains(follower.visitor) {
                    follower.wake()
                }
            }
            return read
        } catch {
            shared.stale.store(true, ordering: .sequentiallyConsistent)
            throw error
        }
    }

    /// Reads the log from `previous`'s head (from the log's head the first time, or once the log
    /// was pruned past it), keeping at most `capacity` entries.
    private static func read(_ inbox: Inbox, after previous: Window?, capacity: Int) async throws -> Window {
        guard var window = previous else {
            let head = try await inbox.logSlice(after: 0, limit: 0).head
            return Window(start: head, head: head, entries: [])
        }
        while true {
            let slice = try await inbox.logSlice(after: window.head, limit: VisitorFeed.batch)
            // Pruned past, moved back (a restore), or further ahead than any feed may be replayed
            // (nobody followed meanwhile): start again at the head; a feed behind it reads the log.
            if slice.prunedThrough > window.head || slice.head < window.head || slice.head - window.head > VisitorFeed.maxReplay {
                return Window(start: slice.head, head: slice.head, entries: [])
            }
            guard slice.head > window.head else { break }
            let messages = slice.entries.compactMap { entry in entry.event.visitorMessageId.map { (seq: entry.event.seq, messageId: $0) } }
            let identities = try await inbox.messageIdentities(ids: Array(Set(messages.map(\.messageId))), channel: .webchat)
            let byMessage = Dictionary(identities.map { ($0.messageId, $0) }, uniquingKeysWith: { first, _ in first })
            for entry in messages {
                guard let identity = byMessage[entry.messageId] else { continue }
                window.entries.append(Entry(seq: entry.seq, messageId: identity.messageId, visitor: Visitor(account: identity.account, id: identity.userId)))
            }
            // Every entry up to `window.head + batch` came in this slice (there are at most that many
            // `seq`s), read or not: entries this binary cannot read and erased ones are passed over.
            window.head = max(slice.entries.last?.event.seq ?? window.head, min(slice.head, window.head + Int64(VisitorFeed.batch)))
            if window.head >= slice.head { break }
        }
        if window.entries.count > capacity {
            let dropped = window.entries.count - capacity
            window.start = window.entries[dropped - 1].seq
            window.entries.removeFirst(dropped)
        }
        return window
    }
}
