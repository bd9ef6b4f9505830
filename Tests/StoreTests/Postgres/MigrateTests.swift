import Foundation
import PostgresNIO
import PostgresStore
import Testing

/// `bridge migrate` on PostgreSQL against a real server: the schema, idempotence, two migrators at
/// once, a newer schema refused, an unreachable server named.
@Suite struct MigrateTests {
    let logger = TestServer.logger

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func migrateCreatesTheSchema() async throws {
        try await TestServer.withFreshDatabase { settings in
            let outcome = try await PostgresMigrator.migrate(settings, logger: logger)
            #expect(outcome.applied == PostgresSchema.migrations.map(\.version))
            #expect(outcome.version == PostgresSchema.version)
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                let tables = Set(try await db.values("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'", as: String.self))
                #expect(tables == Set(PostgresSchema.tables + ["schema_migrations"]))
                let trigramIndexes = try await db.values(
                    "SELECT indexname::text FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname", as: String.self)
                #expect(trigramIndexes == ["contacts_name_trgm", "messages_text_trgm"])
                // The cluster's ctype makes trigrams of Japanese text (else the GIN index finds nothing to use).
                #expect(try await db.value("SELECT cardinality(show_trgm('日本語のテキスト'))", as: Int.self) > 0)

                // The triggers run: a ticket and a message log their events and set waiting_since.
                let contact = try await db.value("INSERT INTO contacts (display_name, created_at, updated_at) VALUES ('Aiko', 1, 1) RETURNING id", as: Int64.self)
                let identity = try await db.value(
                    "INSERT INTO identities (contact_id, account, channel, platform_user_id, created_at) VALUES (\(contact), 'line/jp', 'line', 'U1', 1) RETURNING id",
                    as: Int64.self)
                let ticket = try await db.value(
                    "INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(contact), 'new', \(identity), 1, 1) RETURNING id",
                    as: Int64.self)
                let message = try await db.value(
                    """
                    INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
                    VALUES (\(ticket), \(identity), 'in', 'line', 'line/jp', '{}', 'こんにちは', 'received', 'k1', 1000, 1000) RETURNING id
                    """, as: Int64.self)
                try await db.query("UPDATE tickets SET status = 'open', agent_id = NULL WHERE id = \(ticket)", logger: logger)
                let events = try await db.values("SELECT seq::text || ' ' || type || ' ' || coalesce(data::text, '') FROM events ORDER BY seq", as: String.self)
                #expect(events == [
                    "1 ticket_opened ",
                    "2 message {\"direction\": \"in\", \"messageId\": \(message)}",
                    "3 status {\"status\": \"open\"}",
                ])
                #expect(try await db.value("SELECT seq FROM event_seq", as: Int64.self) == 3)
                #expect(try await db.value("SELECT waiting_since FROM tickets WHERE id = \(ticket)", as: Int64.self) == 1000)
                let found = try await db.values("SELECT id FROM messages WHERE text ILIKE '%んにち%'", as: Int64.self)
                #expect(found == [message])
            }
        }
    }

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func migratingTwiceIsANoOp() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                try await db.query("INSERT INTO contacts (display_name, created_at, updated_at) VALUES ('kept', 1, 1)", logger: logger)
            }
            let again = try await PostgresMigrator.migrate(settings, logger: logger)
            #expect(again == PostgresMigrator.Outcome(applied: [], version: PostgresSchema.version))
            let (recorded, names) = try await PostgresConnector.withConnection(settings, logger: logger) { db in
                (try await db.value("SELECT count(*) FROM schema_migrations", as: Int.self), try await db.values("SELECT display_name FROM contacts", as: String.self))
            }
            #expect(recorded == PostgresSchema.migrations.count)
            #expect(names == ["kept"])
        }
    }

    /// Two bridges migrating one empty database at the same moment: the advisory lock makes them
    /// take turns, so each migration is applied once and both end at the current version.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func concurrentMigratesEndWithOneSchema() async throws {
        for _ in 0..<3 {
            try await TestServer.withFreshDatabase { settings in
                async let first = PostgresMigrator.migrate(settings, logger: logger)
                async let second = PostgresMigrator.migrate(settings, logger: logger)
                let outcomes = try await [first, second]
                #expect((outcomes[0].applied + outcomes[1].applied).sorted() == PostgresSchema.migrations.map(\.version))
                #expect(outcomes.allSatisfy { $0.version == PostgresSchema.version })
                let counts = try await PostgresConnector.withConnection(settings, logger: logger) { db in
                    [
                        try await db.value("SELECT count(*) FROM schema_migrations", as: Int.self),
                        try await db.value("SELECT count(*) FROM event_seq", as: Int.self),
                        try await db.value("SELECT count(*) FROM feed_cursors", as: Int.self),
                    ]
                }
                #expect(counts == [PostgresSchema.migrations.count, 1, 3])
            }
        }
    }

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aSchemaNewerThanTheBinaryIsRefused() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let newer = PostgresSchema.version + 1
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                try await db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(newer), 'from-the-future', 0)", logger: logger)
            }
            let error = await #expect(throws: PostgresStoreError.self) {
                try await PostgresMigrator.migrate(settings, logger: logger)
            }
            #expect(error == .schemaNewer(server: settings.serverDescription, database: newer, binary: PostgresSchema.version))
            #expect(error?.description.contains("database.url") == true)
            #expect(error?.description.contains("newer than this bridge's") == true)
            // Nothing changed.
            let recorded = try await PostgresConnector.withConnection(settings, logger: logger) { db in
                try await db.value("SELECT count(*) FROM schema_migrations", as: Int.self)
            }
            #expect(recorded == PostgresSchema.migrations.count + 1)
        }
    }

    /// `postgres:///db?host=/socket/dir&port=N` reaches the server through its Unix socket.
    @Test(.enabled(if: TestServer.socketURL != nil, "BRIDGE_TEST_POSTGRES_SOCKET_URL is not set (scripts/test.sh sets it)"))
    func theUnixSocketFormConnects() async throws {
        let settings = try TestServer.settings(TestServer.socketURL)
        guard case .socket = settings.endpoint else { Issue.record("not a socket: \(settings)"); return }
        let (database, address) = try await PostgresConnector.withConnection(settings, logger: logger) { db in
            // inet_client_addr() is NULL over a Unix socket.
            (try await db.value("SELECT current_database()::text", as: String.self),
             try await db.value("SELECT coalesce(host(inet_client_addr()), 'unix')", as: String.self))
        }
        #expect(database == (try TestServer.settings()).database)
        #expect(address == "unix")
    }

    /// No server: the error names `database.url` and the host and port, never the password, and
    /// comes at once (a pool would retry for a minute).
    @Test func anUnreachableServerIsNamed() async throws {
        let port = try closedPort()
        let settings = PostgresSettings(
            endpoint: .tcp(host: "127.0.0.1", port: port), username: "bridge", password: "pw-that-must-not-show", database: "bridge", sslMode: .disable)
        let error = await #expect(throws: PostgresStoreError.self) {
            try await PostgresMigrator.migrate(settings, logger: logger)
        }
        guard case .cannotConnect(let server, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(server == "127.0.0.1:\(port)")
        let text = error?.description ?? ""
        #expect(text.hasPrefix("database.url: cannot connect to PostgreSQL at 127.0.0.1:\(port): "))
        #expect(!text.contains("pw-that-must-not-show"))
    }

    /// A loopback port nothing listens on: bound, then closed.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
