import ChannelKit
import Foundation
import Synchronization
import TestSupport
import UniversalInbox

/// An inbox on a fresh SQLite file in a temporary directory.
func makeInbox(clock: ManualClock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000)), searchLimits: SearchLimits = SearchLimits()) throws -> Inbox {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inbox-tests-\(UUID().uuidString)")
    let database = try AppDatabase(path: dir.appendingPathComponent("bridge.sqlite").path)
    return Inbox(database: database, clock: { clock.now }, searchLimits: searchLimits)
}

let lineMain = ChannelAccountRef(kind: .line, id: "main")
let whatsappMain = ChannelAccountRef(kind: .whatsapp, id: "main")

func textEvent(_ eventId: String, from user: String = "U1", name: String? = "Kenji", text: String = "hello", at: Date = Date(timeIntervalSince1970: 1_700_000_000), replyToken: String? = nil) -> InboundEvent {
    InboundEvent(
        kind: .message, eventId: eventId, occurredAt: at, sender: Sender(id: user, displayName: name),
        message: InboundMessage(id: "m-\(eventId)", content: .text(text), replyToken: replyToken))
}

func receiptEvent(_ platformId: String, _ status: DeliveryStatus) -> InboundEvent {
    InboundEvent(kind: .receipt, eventId: "\(platformId):\(status.rawValue)", occurredAt: Date(), receipt: DeliveryReceipt(messageId: platformId, status: status))
}

/// Queues a reply with no channel rule in the way.
func reply(_ inbox: Inbox, ticket: Int64, _ text: String) async throws -> StoredMessage {
    try await inbox.queueReply(ticketId: ticket, content: .text(text)) { _ in nil }
}
