import Foundation
import PostgresNIO
import PostgresStore
import Synchronization
import Testing

/// A migration that adds an index to a table a running cluster writes all the time (`messages`)
/// builds it with `CREATE INDEX CONCURRENTLY`, outside a transaction (`PostgresMigration.Change.index`):
/// the processes still serving during an upgrade go on filing messages while it builds.
@Suite struct ConcurrentIndexMigrationTests {
    let logger = TestServer.logger
    /// The schema just before the visitor messages index (migration 27, built concurrently).
    let beforeIndex = PostgresSchema.migrations.filter { $0.version < 27 }
    /// What a run from `beforeIndex` applies: the index's migration and any after it.
    let fromIndex = PostgresSchema.migrations.filter { $0.version >= 27 }.map(\.version)

    /// The build waits for a writer's open transaction, as it does on a running cluster; meanwhile
    /// another connection's insert into `messages` goes through. (Behind a plain `CREATE INDEX`
    /// waiting for its lock, that insert would wait as well, until the build ended.)
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func messagesStayWritableWhileTheIndexBuilds() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, migrations: beforeIndex, logger: logger)
            try await PostgresConnector.withConnection(settings, logger: logger) { other in
                let ticket = try await Self.ticket(on: other)
                let otherPid = try await other.value("SELECT pg_backend_pid()", as: Int32.self)
                let filed = Flag()
                let filing = Mutex<Task<Void, any Error>?>(nil)
                let outcome = try await whileTheBuildWaits(settings) { watcher in
                    // Another process files a message now: it must not queue behind the build.
                    filing.withLock {
                        $0 = Task {
                            try await Self.insertMessage(on: ticket, on: other)
                            filed.raise()
                        }
                    }
                    try await waitUntil("the other insert finished or waits") {
                        if filed.isRaised { return true }
                        let waiting = try await watcher.value(
                            "SELECT count(*) FROM pg_stat_activity WHERE pid = \(otherPid) AND wait_event_type = 'Lock'", as: Int.self)
                        return waiting == 1
                    }
                    #expect(filed.isRaised, "an insert into messages waited behind the index build")
                }
                try await filing.withLock { $0 }?.value
                #expect(outcome.applied == fromIndex)
                #expect(try await other.value("SELECT count(*) FROM messages", as: Int.self) == 1)
                #expect(try await Self.indexValid(on: other) == true)
            }
        }
    }

    /// A build that failed or was interrupted leaves an invalid index of that name behind; the next
    /// `bridge migrate` drops it and builds the index again, as its migration defines it.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func anInterruptedBuildIsBuiltAgain() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, migrations: beforeIndex, logger: logger)
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                let ticket = try await Self.ticket(on: db)
                try await Self.insertMessage(on: ticket, on: db)
                try await Self.insertMessage(on: ticket, on: db)
                // Two LINE messages: a unique build on the channel fails and leaves its index invalid.
                await #expect(throws: (any Error).self) {
                    try await db.query("CREATE UNIQUE INDEX CONCURRENTLY messages_visitor ON messages (channel)", logger: logger)
                }
                #expect(try await Self.indexValid(on: db) == false)
            }
            #expect(try await PostgresMigrator.migrate(settings, logger: logger).applied == fromIndex)
            try await PostgresConnector.withConnection(settings, logger: logger) { db in
                #expect(try await Self.indexValid(on: db) == true)
                let definition = try await db.value("SELECT pg_get_indexdef(to_regclass('messages_visitor'))", as: String.self)
                #expect(definition == "CREATE INDEX messages_visitor ON public.messages USING btree (identity_id, id) WHERE (channel = 'webchat'::text)")
            }
        }
    }

    /// A build that finished before its migration was recorded (the migrator stopped in between)
    /// is kept: the migration is recorded without building it again.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aFinishedBuildIsRecordedWithoutARebuild() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: logger)
            let built = try await PostgresConnector.withConnection(settings, logger: logger) { db in
                try await db.query("DELETE FROM schema_migrations WHERE version = 27", logger: logger)
                return try await db.value("SELECT to_regclass('messages_visitor')::oid::bigint", as: Int64.self)
            }
            #expect(try await PostgresMigrator.migrate(settings, logger: logger).applied == [27])
            let now = try await PostgresConnector.withConnection(settings, logger: logger) { db in
                try await db.value("SELECT to_regclass('messages_visitor')::oid::bigint", as: Int64.self)
            }
            #expect(now == built)
        }
    }

    /// A second migrator that comes while the first one's build waits asks for the lock again and
    /// again instead of blocking on it: a blocked request would hold a snapshot that the build then
    /// waits for. Once the build is through, the second finds everything applied.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aSecondMigratorWaitsWithoutHoldingUpTheBuild() async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, migrations: beforeIndex, logger: logger)
            let second = Mutex<Task<PostgresMigrator.Outcome, any Error>?>(nil)
            let first = try await whileTheBuildWaits(settings) { watcher in
                second.withLock { $0 = Task { try await PostgresMigrator.migrate(settings, logger: logger) } }
                try await waitUntil("the second migrator asked for the lock and was told no") {
                    try await watcher.value(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_try_advisory_lock%'",
                        as: Int.self) == 1
                }
                let blockedOnALock = try await watcher.value(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query NOT LIKE 'CREATE INDEX%'
                    """, as: Int.self)
                #expect(blockedOnALock == 0)
            }
            #expect(first.applied == fromIndex)
            #expect(try await second.withLock { $0 }?.value.applied == [])
        }
    }

    /// A migration whose statements fail is named in the error, not recorded, and leaves the
    /// migrators' lock free for the next one.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aFailedMigrationFreesTheLock() async throws {
        try await TestServer.withFreshDatabase { settings in
            let broken = beforeIndex + [PostgresMigration(version: 27, name: "broken", statements: ["SELECT 1 / 0"])]
            try await PostgresConnector.withConnection(settings, logger: logger) { migrator in
                let error = await #expect(throws: PostgresStoreError.self) {
                    try await PostgresMigrator.migrate(migrator, server: "test", migrations: broken, logger: logger)
                }
                guard case .migrationFailed(_, 27, "broken", let reason)? = error else {
                    Issue.record("not the broken migration's failure: \(String(describing: error))")
                    return
                }
                #expect(reason.contains("division by zero"))
                let (locked, version) = try await PostgresConnector.withConnection(settings, logger: logger) { other in
                    (try await other.value("SELECT pg_try_advisory_lock(\(PostgresMigrator.lockKey))", as: Bool.self),
                     try await other.value("SELECT max(version) FROM schema_migrations", as: Int.self))
                }
                #expect(locked)
                #expect(version == 26)
            }
        }
    }

    /// Runs `body` while this database's migration builds its index and waits for a writer's open
    /// transaction, as a build on a running cluster does. The writer holds the lock on `messages`
    /// that any insert holds (and none of the rows or the event log's counter that a message's
    /// insert also locks, which would hold up the next one); it commits after `body`. Answers the
    /// migration's outcome.
    private func whileTheBuildWaits(
        _ settings: PostgresSettings, _ body: (_ watcher: PostgresConnection) async throws -> Void
    ) async throws -> PostgresMigrator.Outcome {
        try await PostgresConnector.withConnection(settings, logger: logger) { writer in
            try await PostgresConnector.withConnection(settings, logger: logger) { watcher in
                try await writer.query("BEGIN", logger: logger)
                try await writer.query("LOCK TABLE messages IN ROW EXCLUSIVE MODE", logger: logger)
                let migrating = Task { try await PostgresMigrator.migrate(settings, logger: logger) }
                do {
                    try await waitUntil("the index build waits for the open transaction") {
                        try await watcher.value(
                            """
                            SELECT count(*) FROM pg_stat_activity
                            WHERE datname = current_database() AND query LIKE 'CREATE INDEX%messages_visitor%' AND wait_event_type = 'Lock'
                            """, as: Int.self) == 1
                    }
                    try await body(watcher)
                } catch {
                    _ = try? await writer.query("ROLLBACK", logger: logger)
                    _ = try? await migrating.value
                    throw error
                }
                try await writer.query("COMMIT", logger: logger)
                return try await migrating.value
            }
        }
    }

    /// Set once by one task, read by another.
    final class Flag: Sendable {
        private let raised = Mutex(false)
        var isRaised: Bool { raised.withLock { $0 } }
        func raise() { raised.withLock { $0 = true } }
    }

    /// Whether `messages_visitor` is valid (nil: there is none).
    private static func indexValid(on db: PostgresConnection) async throws -> Bool? {
        try await db.values("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('messages_visitor')", as: Bool.self).first
    }

    /// A LINE customer's ticket.
    private static func ticket(on db: PostgresConnection) async throws -> Int64 {
        let contact = try await db.value("INSERT INTO contacts (display_name, created_at, updated_at) VALUES ('Aiko', 1, 1) RETURNING id", as: Int64.self)
        let identity = try await db.value(
            "INSERT INTO identities (contact_id, account, channel, platform_user_id, created_at) VALUES (\(contact), 'line/jp', 'line', 'U1', 1) RETURNING id",
            as: Int64.self)
        return try await db.value(
            "INSERT INTO tickets (contact_id, status, last_identity_id, created_at, updated_at) VALUES (\(contact), 'new', \(identity), 1, 1) RETURNING id",
            as: Int64.self)
    }

    private static func insertMessage(on ticket: Int64, on db: PostgresConnection) async throws {
        try await db.query(
            """
            INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
            SELECT \(ticket), last_identity_id, 'in', 'line', 'line/jp', '{}', 'hello', 'received', gen_random_uuid()::text, 1000, 1000
            FROM tickets WHERE id = \(ticket)
            """, logger: TestServer.logger)
    }

    /// Waits until `condition` holds; the deadline only keeps a broken build from hanging the run.
    private func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            try #require(ContinuousClock.now < deadline, "not so within 60 s: \(what)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
