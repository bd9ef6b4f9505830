import ChannelKit
import Foundation
import PostgresNIO
import PostgresStore
import Testing
import UniversalInbox

/// The databases a contract test runs on: SQLite always, PostgreSQL when scripts/test.sh started
/// one (`BRIDGE_TEST_POSTGRES_URL`).
enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var available: [StoreKind] { TestServer.available ? [.sqlite, .postgres] : [.sqlite] }
    var testDescription: String { rawValue }
}

/// A fresh, migrated database of one kind: every store of `InboxStores` on it (`stores.ticketStore`,
/// `stores.outbox`, ... through the dynamic member lookup), the rate ledger and plain SQL.
@dynamicMemberLookup
struct Stores: Sendable {
    /// The stores, built once for both databases (`InboxStores.sqlite`, `.postgres`).
    let inbox: InboxStores
    /// On SQLite the in-process ledger: one process serves a SQLite database (`ServingLock`), so its
    /// buckets live in that process and there is no second process to share them with.
    let rateLimits: any RateLimitLedger
    /// Where signatures' nonces are remembered: on SQLite, as the rate ledger, in the process.
    let nonces: any NonceLedger
    /// The database itself, for fixtures and checks in plain SQL (`PlainSQL.swift`).
    let sql: PlainSQL

    init(_ stores: InboxStores, rateLimits: any RateLimitLedger, nonces: any NonceLedger, sql: PlainSQL) {
        self.inbox = stores
        self.rateLimits = rateLimits
        self.nonces = nonces
        self.sql = sql
    }

    subscript<Store>(dynamicMember path: KeyPath<InboxStores, Store>) -> Store { inbox[keyPath: path] }

    /// Runs `body` with new stores on an empty database of `kind`, removed afterwards.
    static func with(_ kind: StoreKind, _ body: (Stores) async throws -> Void) async throws {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-contract-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path)
            try await body(Stores(.sqlite(database), rateLimits: InProcessRateLimitLedger(), nonces: InProcessNonceLedger(), sql: .sqlite(database)))
        case .postgres:
            try await withPostgresProcesses(1) { try await body($0[0]) }
        }
    }

    /// `count` bridge processes on one fresh PostgreSQL database: each its own `PostgresClient`
    /// (its own connections), as separate processes have. SQLite has no such case: one process
    /// serves a SQLite database.
    static func withPostgresProcesses(_ count: Int, _ body: ([Stores]) async throws -> Void) async throws {
        try await TestServer.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: TestServer.logger)
            let clients = try (0..<count).map { _ in
                PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: TestServer.logger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { await client.run() } }
                defer { group.cancelAll() }
                let logger = TestServer.logger
                try await body(clients.map { client in
                    Stores(
                        .postgres(client: client, logger: logger), rateLimits: PostgresRateLimitLedger(client: client, logger: logger),
                        nonces: PostgresNonceLedger(client: client, logger: logger),
                        sql: .postgres(client))
                })
            }
        }
    }
}
