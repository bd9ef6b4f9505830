import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// On PostgreSQL every writer of logged rows takes the event log's counter before any row
/// (`appendsToLog`), the order ingest uses: a group holds the counter while it locks its customers'
/// contacts and tickets. A writer that locked a ticket or contact first and then reached the counter
/// through a trigger would deadlock with ingest, and PostgreSQL would fail it (40P01): an agent's
/// reply, note or edit answered with an error because a customer wrote at the same moment.
@Suite struct LockOrderContractTests {
    static let customers = 4, rounds = 25

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func writersRacingIngestOnTheSameTicketsAndContactsNeverDeadlock() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            let ingest = processes[0].ingestStore, agent = processes[1]
            func message(_ n: Int, round: Int) -> WebhookEvents {
                WebhookEvents(account: IngestContractTests.line, events: [IngestContractTests.text("r\(round)-\(n)", from: "U\(n)", name: nil)])
            }
            for result in await ingest.file((0..<Self.customers).map { message($0, round: 0) }, now: IngestContractTests.now) { _ = try result.get() }
            let tickets = try await processes[0].sql.rows("SELECT id, contact_id FROM tickets ORDER BY id").compactMap { row in row[0].int.flatMap { ticket in row[1].int.map { (ticket, $0) } } }
            #expect(tickets.count == Self.customers)

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The customers write again and again, all in one group each time, as busy webhooks are filed.
                    for round in 1...Self.rounds {
                        let results = await ingest.file((0..<Self.customers).map { message($0, round: round) }, now: IngestContractTests.now)
                        for result in results { _ = try result.get() }
                    }
                }
                group.addTask {
                    // Meanwhile agents reply, write notes and edit the same customers, and the janitor closes.
                    for round in 1...Self.rounds {
                        for (ticket, contact) in tickets {
                            _ = try await OutboxContractTests.queue(agent.outbox, ticket, "reply \(round)")
                            _ = try await agent.ticketStore.addNote(ticketId: ticket, text: "note \(round)", agentId: nil, author: "system", at: IngestContractTests.now)
                            try await agent.contactStore.update(contactId: contact, ContactUpdate(displayName: "Customer \(round)"), at: IngestContractTests.now)
                        }
                        _ = try await agent.ticketStore.closeResolved(before: IngestContractTests.now, at: IngestContractTests.now)
                    }
                }
                try await group.waitForAll()
            }
            let count = try await processes[1].sql.int64("SELECT count(*) FROM messages")
            #expect(count == Int64(Self.customers * (Self.rounds + 1) + tickets.count * Self.rounds))
        }
    }
}
