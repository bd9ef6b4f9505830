import ChannelKit
import Foundation
import PostgresNIO
import PostgresStore
import Synchronization
import Testing
import UniversalInbox

/// The statements every ingest group runs on PostgreSQL are prepared once per connection, then only
/// bound and run: a group's messages cost no parse and plan of their own on the server.
@Suite struct IngestStatementsTests {
    let logger = TestServer.logger

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func groupsReuseTheirConnectionsPreparedStatements() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let client = try pool(settings, connections: 1)
            let running = Task { await client.run() }
            defer { running.cancel() }
            let store = PostgresIngestStore(client: client, logger: logger)
            func prepared() async throws -> [String] {
                var names: [String] = []
                for try await name in try await client.query("SELECT name FROM pg_prepared_statements ORDER BY name", logger: logger)
                    .decode(String.self)
                {
                    names.append(name)
                }
                return names
            }

            // The first group meets new customers; the second, known ones, takes the batch's statements.
            for n in 0..<2 {
                for result in await store.file(group(n), now: IngestContractTests.now) { _ = try result.get() }
            }
            let afterTwo = try await prepared()
            #expect(afterTwo.count >= 5, "\(afterTwo)")
            #expect(afterTwo.allSatisfy { $0.contains("IngestStatements") }, "\(afterTwo)")
            // A new customer's contact and identity took one statement, not one each.
            #expect(afterTwo.contains { $0.hasSuffix("FirstContact") }, "\(afterTwo)")

            // A third group prepares nothing more, and its messages are filed.
            for result in await store.file(group(2), now: IngestContractTests.now) { _ = try result.get() }
            #expect(try await prepared() == afterTwo)
            let messages = try await client.query("SELECT count(*) FROM messages", logger: logger).decode(Int64.self)
            var count: Int64 = 0
            for try await value in messages { count = value }
            #expect(count == 6)
        }
    }

    /// A statement whose preparation failed does not keep failing on its connection (postgres-nio
    /// keeps the error for the connection's lifetime): once the cause is gone the next group is
    /// filed on the same connection, its statement unprepared. Here the cause is a lock timeout while
    /// another session holds `processed_events`.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aFailedPreparationDoesNotStayWithItsConnection() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            try await PostgresConnector.withConnection(settings, logger: logger) { admin in
                // The bridge's sessions (opened after this) give up waiting for a lock after 100 ms.
                try await admin.query(
                    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '100ms'); END $$", logger: logger)
                let client = try pool(settings, connections: 1)
                let running = Task { await client.run() }
                defer { running.cancel() }
                let store = PostgresIngestStore(client: client, logger: logger)

                try await admin.query("BEGIN", logger: logger)
                try await admin.query("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE", logger: logger)
                let refused = await store.file(group(0), now: IngestContractTests.now)
                #expect(refused.allSatisfy { (try? $0.get()) == nil })
                try await admin.query("ROLLBACK", logger: logger)

                for result in await store.file(group(0), now: IngestContractTests.now) { _ = try result.get() }
            }
        }
    }

    /// A group is taken from the ingest queue only once its transaction holds the event log's lock,
    /// so the webhooks that arrived while another process (here another session) held it go in
    /// the same group instead of waiting for the next.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aGroupIsTakenOnceItsTransactionHoldsTheLogLock() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            try await PostgresConnector.withConnection(settings, logger: logger) { admin in
                let client = try pool(settings, connections: 1)
                let running = Task { await client.run() }
                defer { running.cancel() }
                let store = PostgresIngestStore(client: client, logger: logger)

                try await admin.query("BEGIN", logger: logger)
                try await admin.query("SELECT 1 FROM event_seq WHERE id = 1 FOR NO KEY UPDATE", logger: logger)
                let taken = Taken()
                let filing = Task {
                    await store.file {
                        taken.mark()
                        return IngestGroup(webhooks: group(0), now: IngestContractTests.now)
                    }
                }
                // The store's session waits for the lock; until it is released nothing is taken.
                let deadline = ContinuousClock.now + .seconds(60)  // only against a hang on a loaded machine
                while try await waitingForALock(settings) == 0 {
                    try #require(ContinuousClock.now < deadline, "the store's session never waited for the lock")
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(!taken.isMarked)
                try await admin.query("COMMIT", logger: logger)
                for result in await filing.value { _ = try result.get() }
                #expect(taken.isMarked)
            }
        }
    }

    /// Sessions of this database waiting for a lock, read on a connection of its own (in a
    /// transaction `pg_stat_activity` keeps its first reading).
    private func waitingForALock(_ settings: PostgresSettings) async throws -> Int64 {
        try await PostgresConnector.withConnection(settings, logger: logger) { connection in
            var count: Int64 = 0
            let rows = try await connection.query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", logger: logger)
            for try await value in rows.decode(Int64.self) { count = value }
            return count
        }
    }

    /// Whether the store took its group.
    private final class Taken: Sendable {
        private let marked = Mutex(false)
        func mark() { marked.withLock { $0 = true } }
        var isMarked: Bool { marked.withLock { $0 } }
    }

    /// A client of at most `connections` connections, opened when needed (one: every query of a test
    /// meets the same session).
    private func pool(_ settings: PostgresSettings, connections: Int) throws -> PostgresClient {
        var configuration = try settings.clientConfiguration()
        configuration.options.maximumConnections = connections
        configuration.options.minimumConnections = 0
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Two webhooks, one event each from customers U0 and U1.
    private func group(_ n: Int) -> [WebhookEvents] {
        (0..<2).map { webhook in
            WebhookEvents(account: ChannelAccountRef(kind: .line, id: "main"), events: [IngestContractTests.text("e\(n)-\(webhook)", from: "U\(webhook)")])
        }
    }
}
