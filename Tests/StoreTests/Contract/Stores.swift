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

/// A fresh, migrated database of one kind, with each store protocol's implementation on it.
struct Stores: Sendable {
    let runOnceLeases: any RunOnceLeases
    let eventLog: any EventLogStore
    let access: any AccessStore
    let leaseQueues: any LeaseQueueStore
    let drafts: any DraftStore
    let agents: any AgentStore
    let savedViews: any SavedViewStore
    let forbiddenWords: any ForbiddenWordStore
    let cannedResponses: any CannedResponseStore
    let outbox: any OutboxStore
    let campaigns: any CampaignStore
    let ingest: any IngestStore
    let pushTargets: any PushDeviceStore
    let alerts: any AlertStore
    let webhooks: any OutgoingWebhookStore
    let ticketQueries: any TicketQueryStore
    let tickets: any TicketStore
    let contacts: any ContactStore
    let customFields: any CustomFieldStore
    let assignments: any AssignmentStore
    let rules: any RuleStore
    let businessHours: any BusinessHoursStore
    let satisfaction: any SatisfactionStore
    let followUpJobs: any FollowUpJobStore
    let reports: any ReportStore
    let console: any ConsoleStore
    let presence: any PresenceStore
    let spam: any SpamStore
    /// On SQLite the in-process ledger: one process serves a SQLite database (`ServingLock`), so its
    /// buckets live in that process and there is no second process to share them with.
    let rateLimits: any RateLimitLedger
    /// The database itself, for fixtures and checks in plain SQL (`PlainSQL.swift`).
    let sql: PlainSQL

    /// Runs `body` with new stores on an empty database of `kind`, removed afterwards.
    static func with(_ kind: StoreKind, _ body: (Stores) async throws -> Void) async throws {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-contract-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path)
            try await body(
                Stores(
                    runOnceLeases: SQLiteRunOnceLeases(database: database), eventLog: SQLiteEventLogStore(database: database),
                    access: SQLiteAccessStore(database: database), leaseQueues: SQLiteLeaseQueueStore(database: database),
                    drafts: SQLiteDraftStore(database: database), agents: SQLiteAgentStore(database: database),
                    savedViews: SQLiteSavedViewStore(database: database),
                    forbiddenWords: SQLiteForbiddenWordStore(database: database), cannedResponses: SQLiteCannedResponseStore(database: database),
                    outbox: SQLiteOutboxStore(database: database), campaigns: SQLiteCampaignStore(database: database),
                    ingest: SQLiteIngestStore(database: database),
                    pushTargets: SQLitePushDeviceStore(database: database),
                    alerts: SQLiteAlertStore(database: database),
                    webhooks: SQLiteOutgoingWebhookStore(database: database),
                    ticketQueries: SQLiteTicketQueryStore(database: database),
                    tickets: SQLiteTicketStore(database: database),
                    contacts: SQLiteContactStore(database: database),
                    customFields: SQLiteCustomFieldStore(database: database),
                    assignments: SQLiteAssignmentStore(database: database),
                    rules: SQLiteRuleStore(database: database),
                    businessHours: SQLiteBusinessHoursStore(database: database),
                    satisfaction: SQLiteSatisfactionStore(database: database),
                    followUpJobs: SQLiteFollowUpJobStore(database: database),
                    reports: SQLiteReportStore(database: database),
                    console: SQLiteConsoleStore(database: database),
                    presence: InMemoryPresenceStore(),
                    spam: SQLiteSpamStore(database: database),
                    rateLimits: InProcessRateLimitLedger(), sql: .sqlite(database)))
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
                        runOnceLeases: PostgresRunOnceLeases(client: client, logger: logger), eventLog: PostgresEventLogStore(client: client, logger: logger),
                        access: PostgresAccessStore(client: client, logger: logger), leaseQueues: PostgresLeaseQueueStore(client: client, logger: logger),
                        drafts: PostgresDraftStore(client: client, logger: logger), agents: PostgresAgentStore(client: client, logger: logger),
                        savedViews: PostgresSavedViewStore(client: client, logger: logger),
                        forbiddenWords: PostgresForbiddenWordStore(client: client, logger: logger),
                        cannedResponses: PostgresCannedResponseStore(client: client, logger: logger),
                        outbox: PostgresOutboxStore(client: client, logger: logger),
                        campaigns: PostgresCampaignStore(client: client, logger: logger), ingest: PostgresIngestStore(client: client, logger: logger),
                        pushTargets: PostgresPushDeviceStore(client: client, logger: logger),
                        alerts: PostgresAlertStore(client: client, logger: logger),
                        webhooks: PostgresOutgoingWebhookStore(client: client, logger: logger),
                        ticketQueries: PostgresTicketQueryStore(client: client, logger: logger),
                        tickets: PostgresTicketStore(client: client, logger: logger),
                        contacts: PostgresContactStore(client: client, logger: logger),
                        customFields: PostgresCustomFieldStore(client: client, logger: logger),
                        assignments: PostgresAssignmentStore(client: client, logger: logger),
                        rules: PostgresRuleStore(client: client, logger: logger),
                        businessHours: PostgresBusinessHoursStore(client: client, logger: logger),
                        satisfaction: PostgresSatisfactionStore(client: client, logger: logger),
                        followUpJobs: PostgresFollowUpJobStore(client: client, logger: logger),
                        reports: PostgresReportStore(client: client, logger: logger),
                        console: PostgresConsoleStore(client: client, logger: logger),
                        presence: PostgresPresenceStore(client: client, logger: logger),
                        spam: PostgresSpamStore(client: client, logger: logger),
                        rateLimits: PostgresRateLimitLedger(client: client, logger: logger),
                        sql: .postgres(client))
                })
            }
        }
    }
}
