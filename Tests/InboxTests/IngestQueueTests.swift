import ChannelKit
import Foundation
import Synchronization
import Testing
@testable import UniversalInbox

/// `IngestQueue`: the store takes its group when it is ready to write, so the webhooks that arrive
/// while it waits (on PostgreSQL, for the event log's lock that another process holds) go in that
/// group, and each caller gets its own webhook's answer.
@Suite struct IngestQueueTests {
    /// Waits at a gate before taking its first group; answers each webhook with its number (from its
    /// event id) as `stored`, so each caller's answer can be told from the others'.
    final class GatedStore: IngestStore {
        let groups = Mutex<[[String]]>([])
        let entered = Mutex(0)
        let gate: AsyncStream<Void>
        let open: AsyncStream<Void>.Continuation

        init() {
            (gate, open) = AsyncStream.makeStream(of: Void.self)
        }

        nonisolated(nonsending) func file(taking take: nonisolated(nonsending) @Sendable () async -> IngestGroup) async -> [Result<IngestResult, any Error>] {
            if entered.withLock({ $0 += 1; return $0 }) == 1 {
                for await _ in gate { break }
            }
            let group = await take()
            groups.withLock { $0.append(group.webhooks.map { $0.events[0].eventId }) }
            return group.webhooks.map { webhook in
                var result = IngestResult()
                result.stored = Int(webhook.events[0].eventId.dropFirst()) ?? -1
                return .success(result)
            }
        }

        func unreadableEvents(limit: Int, before: Int64?) async throws -> [UnreadableEventRecord] { [] }
    }

    @Test func webhooksThatArriveWhileTheStoreWaitsJoinItsGroup() async throws {
        let store = GatedStore()
        let queue = IngestQueue(store: store, bus: InboxEventBus(), clock: { Date() })
        let account = ChannelAccountRef(kind: .line, id: "main")
        func submit(_ n: Int) -> Task<IngestResult, any Error> {
            Task {
                let event = InboundEvent(kind: .message, eventId: "e\(n)", occurredAt: Date(), sender: Sender(id: "U\(n)"),
                    message: InboundMessage(id: "m\(n)", content: .text("hello \(n)")))
                return try await queue.submit([event], unreadable: [], from: account)
            }
        }

        // Opened whatever happens, so a failed run does not leave its first caller waiting.
        defer { store.open.finish() }
        let first = submit(1)
        // The store is waiting (its first group not taken yet) while two more webhooks arrive; all
        // three wait, as the first was not taken before the store was ready.
        try await waitUntil("the store was called") { store.entered.withLock { $0 } > 0 }
        let later = [submit(2), submit(3)]
        try await waitUntil("three webhooks wait") { await queue.waitingCount == 3 }
        store.open.yield()

        #expect(try await first.value.stored == 1)
        #expect(try await later[0].value.stored == 2)
        #expect(try await later[1].value.stored == 3)
        #expect(store.groups.withLock { $0 } == [["e1", "e2", "e3"]])
    }

    /// Files each group where it is called, and notes whether that was the ingest queue's own
    /// dispatch queue (`IngestQueue.executor`), which it can tell by a value set on that queue.
    final class WhereFiledStore: IngestStore {
        static let key = DispatchSpecificKey<String>()
        let filedOn = Mutex<[String?]>([])

        nonisolated(nonsending) func file(taking take: nonisolated(nonsending) @Sendable () async -> IngestGroup) async -> [Result<IngestResult, any Error>] {
            let group = await take()
            filedOn.withLock { $0.append(DispatchQueue.getSpecific(key: Self.key)) }
            return group.webhooks.map { _ in .success(IngestResult()) }
        }

        func unreadableEvents(limit: Int, before: Int64?) async throws -> [UnreadableEventRecord] { [] }
    }

    /// The store files on the queue's own dispatch queue, not on Swift's shared pool, where taking,
    /// filing and answering each group waited behind the HTTP work (`IngestQueue.executor`).
    @Test func theStoreFilesOnTheQueuesOwnDispatchQueue() async throws {
        let store = WhereFiledStore()
        let queue = IngestQueue(store: store, bus: InboxEventBus(), clock: { Date() })
        queue.executor.queue.setSpecific(key: WhereFiledStore.key, value: "ingest")
        let event = InboundEvent(kind: .message, eventId: "e1", occurredAt: Date(), sender: Sender(id: "U1"),
            message: InboundMessage(id: "m1", content: .text("hello")))
        _ = try await queue.submit([event], unreadable: [], from: ChannelAccountRef(kind: .line, id: "main"))
        #expect(store.filedOn.withLock { $0 } == ["ingest"])
    }

    /// Waits until `condition` holds; the deadline only keeps a broken queue from hanging the run.
    private func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while await !condition() {
            try #require(ContinuousClock.now < deadline, "not so within 30 s: \(what)")
            await Task.yield()
        }
    }
}
