import ChannelKit
import Foundation
import GRDB
import TestSupport
import Testing
import UniversalInbox

/// `tickets.waiting_since` as the triggers keep it: a new customer message only moves it (it is not
/// recomputed from every message of the ticket), so it is checked against the definition itself —
/// the oldest customer message newer than the last reply that was not the bridge's own — after each
/// step of a long conversation with late deliveries, agent replies and automatic ones.
@Suite struct WaitingSinceTests {
    /// What `waiting_since` must be, worked out from the ticket's messages.
    static func expected(_ messages: [(direction: String, author: String?, createdAt: Int64)]) -> Int64? {
        let lastReply = messages.filter { $0.direction == "out" && $0.author != "system" }.map(\.createdAt).max() ?? -1
        return messages.filter { $0.direction == "in" && $0.createdAt > lastReply }.map(\.createdAt).min()
    }

    @Test func keptValueMatchesTheDefinitionThroughLateDeliveriesAndReplies() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let inbox = try makeInbox(clock: clock)
        var random = SplitMix64(seed: 12)
        var ticket: Int64?
        var kinds: [String: Int] = [:]
        for step in 0..<160 {
            clock.advance(by: 10)
            let roll = ticket == nil ? 0 : random.next() % 100
            if roll < 60 {
                // A customer message sent up to 2 minutes ago (delivered late, maybe before the last reply) or just now;
                // sometimes at the very millisecond of the clock, which a reply at the same time answers.
                let back = roll < 10 ? 0 : Double(random.next() % 120_000) / 1000
                _ = try await inbox.ingest([textEvent("e\(step)", text: "message \(step)", at: clock.now.addingTimeInterval(-back))], from: lineMain)
                kinds["in", default: 0] += 1
            } else {
                let system = roll >= 85
                _ = try await inbox.queueReply(
                    ticketId: try #require(ticket), content: .text("reply \(step)"), author: system ? "system" : nil) { _ in nil }
                kinds[system ? "system" : "reply", default: 0] += 1
            }
            if ticket == nil { ticket = try await inbox.listTickets(TicketQuery()).items.first?.id }
            let id = try #require(ticket)
            let (kept, messages) = try await inbox.database.pool.read { db in
                (
                    try Int64.fetchOne(db, sql: "SELECT waiting_since FROM tickets WHERE id = ?", arguments: [id]),
                    try Row.fetchAll(db, sql: "SELECT direction, author, created_at FROM messages WHERE ticket_id = ?", arguments: [id])
                        .map { (direction: $0["direction"] as String, author: $0["author"] as String?, createdAt: $0["created_at"] as Int64) }
                )
            }
            #expect(kept == Self.expected(messages), "after step \(step)")
        }
        // The walk went through every case: waits started, moved earlier by late messages and ended by replies.
        #expect(kinds["in", default: 0] > 60 && kinds["reply", default: 0] > 20 && kinds["system", default: 0] > 10)
        #expect(try await inbox.listTickets(TicketQuery()).items.count == 1)
    }
}
