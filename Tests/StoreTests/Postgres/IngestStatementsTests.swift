import ChannelKit
import Foundation
import PostgresNIO
import PostgresStore
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
            var configuration = try settings.clientConfiguration()
            configuration.options.maximumConnections = 1  // every query below on the one connection
            configuration.options.minimumConnections = 0
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let running = Task { await client.run() }
            defer { running.cancel() }
            let store = PostgresIngestStore(client: client, logger: logger)
            let account = ChannelAccountRef(kind: .line, id: "main")
            func group(_ n: Int) -> [WebhookEvents] {
                (0..<2).map { webhook in
                    WebhookEvents(account: account, events: [IngestContractTests.text("e\(n)-\(webhook)", from: "U\(webhook)")])
                }
            }
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

            // A third group prepares nothing more, and its messages are filed.
            for result in await store.file(group(2), now: IngestContractTests.now) { _ = try result.get() }
            #expect(try await prepared() == afterTwo)
            let messages = try await client.query("SELECT count(*) FROM messages", logger: logger).decode(Int64.self)
            var count: Int64 = 0
            for try await value in messages { count = value }
            #expect(count == 6)
        }
    }
}
