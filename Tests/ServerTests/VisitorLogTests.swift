@testable import BridgeServer
import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// A process's website visitors' feeds read the event log through one `VisitorLog`: each sees only
/// its own visitor's messages, and any number of them reading after a change cost one read of the
/// log (an open widget used to read the log and the store on every event in the inbox). On a new
/// SQLite file, with no bridge running, so nothing but the test publishes.
@Suite struct VisitorLogTests {
    static let site = ChannelAccountRef(kind: .webchat, id: "site")
    static let line = ChannelAccountRef(kind: .line, id: "main")

    static func inbox() throws -> Inbox {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visitor-log-\(UUID().uuidString)")
        return Inbox(database: try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path))
    }

    static func say(_ inbox: Inbox, on account: ChannelAccountRef = site, _ user: String, _ id: String, _ text: String) async throws {
        let event = InboundEvent(kind: .message, eventId: id, occurredAt: Date(), sender: Sender(id: user), message: InboundMessage(id: id, content: .text(text)))
        #expect(try await inbox.ingest([event], from: account).stored == 1)
    }

    /// Waits until `condition` holds: a webhook is answered once committed, and the inbox publishes
    /// (which marks the log moved) just after.
    static func until(_ what: Comment, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("never: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func texts(_ page: VisitorFeedPage) -> [String] { page.events.compactMap { $0.message?.text } }

    @Test func everyFeedOfAProcessSharesOneReadOfTheLog() async throws {
        let inbox = try Self.inbox()
        // Never stale by age: only what the inbox publishes makes it read again.
        let log = VisitorLog(inbox: inbox, freshness: .seconds(3600))
        let start = try await log.current().head
        try await Self.say(inbox, "v-ann", "a-1", "Is the jacket in stock?")
        try await Self.say(inbox, "v-bob", "b-1", "Where is my parcel?")
        try await Self.say(inbox, on: Self.line, "U-kim", "k-1", "Hello from LINE")
        let ann = VisitorFeed(log: log, visitor: .init(account: Self.site.key, id: "v-ann"))
        let bob = VisitorFeed(log: log, visitor: .init(account: Self.site.key, id: "v-bob"))
        let head = try await inbox.eventLogHead()
        // Each webhook was its own group, published once; the log saw all three.
        try await Self.until("the three webhooks published") { log.published == 3 }
        try await log.catchUp()
        #expect(try await log.current().head == head)

        let reads = await log.reads
        let pages = try await withThrowingTaskGroup(of: (String, VisitorFeedPage).self) { group in
            for index in 0..<100 {
                let (name, feed) = [("ann", ann), ("bob", bob), ("eve", VisitorFeed(log: log, visitor: .init(account: Self.site.key, id: "v-eve")))][index % 3]
                group.addTask { (name, try await feed.read(after: start)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(pages.count == 100)
        for (name, page) in pages {
            let expected = ["ann": ["Is the jacket in stock?"], "bob": ["Where is my parcel?"], "eve": []][name]
            #expect(Self.texts(page) == expected, "\(name)")
            #expect(page.next == head && !page.resync)
        }
        #expect(await log.reads == reads, "a hundred feeds read the log once between them")

        // What the inbox publishes next is read at the loop's next round, with no wait for the window to age.
        try await Self.say(inbox, "v-ann", "a-2", "Size M, please")
        try await Self.until("Ann's second message on her feed") {
            try await log.catchUp()
            return Self.texts(try await ann.read(after: head)) == ["Size M, please"]
        }
        #expect(try await bob.read(after: head).events.isEmpty)
    }

    /// A feed further behind than the window (which starts where the process first read the log)
    /// reads the log itself, and gets the same; one too far behind is told to reload.
    @Test func aFeedBehindTheWindowReadsTheLogItself() async throws {
        let inbox = try Self.inbox()
        try await Self.say(inbox, "v-ann", "a-1", "Before the window")
        try await Self.say(inbox, "v-bob", "b-1", "Not Ann's")
        let log = VisitorLog(inbox: inbox, freshness: .seconds(3600))
        let window = try await log.current()
        #expect(window.start == window.head && window.entries.isEmpty)
        let ann = VisitorFeed(log: log, visitor: .init(account: Self.site.key, id: "v-ann"))
        let page = try await ann.read(after: 0)
        #expect(Self.texts(page) == ["Before the window"])
        #expect(page.next == window.head && !page.resync)
        #expect(try await ann.read(after: window.head + 1).resync)
    }

    /// A feed that asks from a position past what was read (the head its session began at, put
    /// there by another process, which publishes nothing here) gets the log read again, not told
    /// to reload.
    @Test func aPositionPastTheWindowIsReadNotResynced() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("visitor-log-\(UUID().uuidString)").appendingPathComponent("bridge.sqlite").path
        let inbox = Inbox(database: try AppDatabase(path: path))
        let other = Inbox(database: try AppDatabase(path: path))
        let log = VisitorLog(inbox: inbox, freshness: .seconds(3600))
        let before = try await log.current().head
        try await Self.say(other, "v-ann", "a-1", "Written by another process")
        let head = try await other.eventLogHead()
        #expect(head > before)
        let ann = VisitorFeed(log: log, visitor: .init(account: Self.site.key, id: "v-ann"))
        let page = try await ann.read(after: head)
        #expect(!page.resync && page.next == head && page.events.isEmpty)
        #expect(Self.texts(try await ann.read(after: before)) == ["Written by another process"])
    }

    /// Newest entries this binary cannot read (a newer process's) or that were erased leave no
    /// hole: the window reaches the log's head past them, so a feed at the head is served, not told
    /// to reload.
    @Test func unreadableNewestEntriesArePassedOver() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("visitor-log-\(UUID().uuidString)").appendingPathComponent("bridge.sqlite").path
        let database = try AppDatabase(path: path)
        let inbox = Inbox(database: database)
        let log = VisitorLog(inbox: inbox, freshness: .seconds(3600))
        _ = try await log.current()
        try await Self.say(inbox, "v-ann", "a-1", "Hello")
        try await database.pool.write { db in
            for _ in 0..<3 { try db.execute(sql: "INSERT INTO events (type, ticket_id, data) VALUES ('a_newer_kind', 1, NULL)") }
        }
        let head = try await inbox.eventLogHead()
        try await log.catchUp()
        #expect(try await log.current().head == head)
        let ann = VisitorFeed(log: log, visitor: .init(account: Self.site.key, id: "v-ann"))
        let page = try await ann.read(after: head)
        #expect(!page.resync && page.next == head)
    }

    /// The log's own loop reads what was published and wakes the waiting feed of the visitor who
    /// wrote (its tick is an hour here: only the wake can end its wait).
    @Test func theLoopWakesAWaitingFeed() async throws {
        let inbox = try Self.inbox()
        let log = VisitorLog(inbox: inbox)
        let loop = Task { try await log.run() }
        defer { loop.cancel() }
        let ann = log.follow(.init(account: Self.site.key, id: "v-ann"), tick: .seconds(3600))
        _ = try await log.current()
        let deadline = ContinuousClock.now + .seconds(60)
        let woken = Task { await ann.wait(deadline: deadline) }
        try await Self.say(inbox, "v-ann", "a-1", "Hello")
        await woken.value
        #expect(ContinuousClock.now < deadline, "woken by the loop, not by the deadline")
        #expect(ann.wakes == 1)
    }

    /// Only the feed whose visitor's message the log read found is woken; the others sleep on.
    @Test func onlyTheFeedsWithSomethingNewAreWoken() async throws {
        let inbox = try Self.inbox()
        let log = VisitorLog(inbox: inbox, freshness: .seconds(3600))
        _ = try await log.current()
        var ann: FeedWaker? = log.follow(.init(account: Self.site.key, id: "v-ann"))
        let bob = log.follow(.init(account: Self.site.key, id: "v-bob"))
        #expect(log.following == 2)
        try await Self.say(inbox, "v-ann", "a-1", "Hello")
        try await Self.say(inbox, on: Self.line, "U-kim", "k-1", "Hello from LINE")
        try await Self.until("both webhooks published") { log.published == 2 }
        try await log.catchUp()
        #expect(ann?.wakes == 1)
        #expect(bob.wakes == 0)
        try await Self.say(inbox, "v-bob", "b-1", "Hi")
        try await Self.until("Bob's message published") { log.published == 3 }
        try await log.catchUp()
        #expect(ann?.wakes == 1)
        #expect(bob.wakes == 1)
        // A reader that ends releases its waker: it no longer follows.
        ann = nil
        #expect(log.following == 1)
    }

    /// The chat's queue place and the agents' typing are looked at when the visitor's messages
    /// arrive, when a ticket changes while the chat waits in the queue, and a tick after the last
    /// look: not after every message in the inbox, nor every ticket change for a chat not waiting.
    @Test func aFeedLooksAtItsChatsStateWhenItMayHaveChangedOrATick() async throws {
        let inbox = try Self.inbox()
        let log = VisitorLog(inbox: inbox)
        let waker = log.follow(.init(account: Self.site.key, id: "v-ann"), tick: .seconds(1))
        let now = ContinuousClock.now
        #expect(waker.stateDue(now: now))
        #expect(!waker.stateDue(now: now))
        inbox.bus.publish([.messageReceived(ticketId: 1, messageId: 1), .messageStatusChanged(messageId: 1, status: .sent), .followUpQueued])
        #expect(!waker.stateDue(now: now))
        inbox.bus.publish([.ticketAssigned(ticketId: 1, agentId: 1)])
        #expect(!waker.stateDue(now: now), "the chat does not wait in the queue")
        waker.found(waiting: true)
        inbox.bus.publish([.ticketAssigned(ticketId: 1, agentId: 1)])
        #expect(waker.stateDue(now: now))
        #expect(!waker.stateDue(now: now + .milliseconds(999)))
        #expect(waker.stateDue(now: now + .seconds(1)))
        waker.target.wake()
        #expect(waker.stateDue(now: now + .seconds(1)), "the visitor's own message")
    }
}
