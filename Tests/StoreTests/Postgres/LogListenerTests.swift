import Foundation
import PostgresNIO
import PostgresStore
import Synchronization
import Testing
import UniversalInbox

/// `PostgresLogListener`: a notification from another client (a log append, a presence change)
/// wakes it with its channel; when the server terminates its backend it connects again and wakes
/// every channel, since notifications were missed meanwhile; cancelling it stops it.
@Suite struct LogListenerTests {
    let logger = TestServer.logger

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func wakesOnNotificationsAndAgainAfterReconnecting() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let wakes = Wakes()
            let listener = PostgresLogListener(settings: settings, retryDelay: .milliseconds(50), logger: logger) { wakes.add($0) }
            let listening = Task { await listener.run() }
            let writer = try await PostgresConnector.connect(settings, logger: logger)
            let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
            let running = Task { await client.run() }
            defer {
                listening.cancel()  // also when an expectation throws, before the database is dropped
                running.cancel()
                Task { [writer] in try? await writer.close() }
            }
            let both = [PostgresSchema.eventChannel, PostgresSchema.presenceChannel].sorted()

            // Listening: each channel woken once.
            #expect(try await wakes.after(0, count: 2).sorted() == both)
            // Another client opens a ticket (the log's append notifies), then sets presence.
            let (contact, identity) = try await EventLogOrderTests.customer(writer)
            _ = try await EventLogOrderTests.openTicket(writer, contact: contact, identity: identity)
            #expect(try await wakes.after(2, count: 1) == [PostgresSchema.eventChannel])
            try await PostgresPresenceStore(client: client, logger: logger).set(
                PresenceEntry(
                    connectionId: UUID(), processId: "other", agentId: nil, agentName: "admin", ticketId: 1, state: .viewing,
                    expiresAt: Date(timeIntervalSince1970: 1_800_000_000)))
            #expect(try await wakes.after(3, count: 1) == [PostgresSchema.presenceChannel])

            // The server ends the listener's session: it connects again and wakes both channels.
            let killed = try await writer.value(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'",
                as: Int.self)
            #expect(killed == 1)
            #expect(try await wakes.after(4, count: 2).sorted() == both)
            // And listens again.
            _ = try await EventLogOrderTests.openTicket(writer, contact: contact, identity: identity)
            #expect(try await wakes.after(6, count: 1) == [PostgresSchema.eventChannel])

            listening.cancel()
            await listening.value
        }
    }
}

/// The channels a listener woke, in order; read by waiting for a count.
final class Wakes: Sendable {
    private let channels = Mutex<[String]>([])

    func add(_ channel: String) { channels.withLock { $0.append(channel) } }

    /// The `count` wakes after the first `skip`, once they have come (an error after 20 s, a bound
    /// for a loaded machine, not a timing assertion).
    func after(_ skip: Int, count: Int) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let seen = channels.withLock { $0 }
            if seen.count >= skip + count { return Array(seen[skip..<(skip + count)]) }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Missing(seen: channels.withLock { $0 })
    }

    struct Missing: Error { let seen: [String] }
}
