import Synchronization
import Testing
@testable import UniversalInbox

/// `InboxEventBus.listen`: how workers are woken. A listener hears each batch as published, and
/// nothing once cancelled or released.
@Suite struct EventBusTests {
    final class Heard: Sendable {
        let batches = Mutex<[[InboxEvent]]>([])
        func record(_ events: [InboxEvent]) { batches.withLock { $0.append(events) } }
        var count: Int { batches.withLock { $0.count } }
    }

    @Test func listenerHearsEachBatchOnThePublishersThread() {
        let bus = InboxEventBus()
        let heard = Heard()
        let listening = bus.listen { heard.record($0) }
        bus.publish([.followUpQueued, .messageQueued(ticketId: 1, messageId: 2)])
        bus.publish([])
        bus.publish([.campaignChanged(campaignId: 3)])
        // Synchronous: no waiting, the calls have happened when publish returns.
        #expect(heard.batches.withLock { $0 } == [[.followUpQueued, .messageQueued(ticketId: 1, messageId: 2)], [.campaignChanged(campaignId: 3)]])
        listening.cancel()
    }

    @Test func cancelledOrReleasedListenersHearNothing() {
        let bus = InboxEventBus()
        let cancelled = Heard()
        let released = Heard()
        let kept = Heard()
        let listening = bus.listen { cancelled.record($0) }
        var dropped: InboxEventBus.Listening? = bus.listen { released.record($0) }
        let staying = bus.listen { kept.record($0) }
        bus.publish([.followUpQueued])
        listening.cancel()
        listening.cancel()
        dropped = nil
        bus.publish([.followUpQueued])
        #expect(cancelled.count == 1)
        #expect(released.count == 1)
        #expect(kept.count == 2)
        _ = dropped
        staying.cancel()
    }
}
