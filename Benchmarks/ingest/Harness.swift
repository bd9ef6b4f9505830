import BenchmarkSupport
import Foundation
import GRDB
import PlatformStandIns

/// The bridge under load, with a LINE stand-in (for the profile lookups new customers trigger):
/// one process on SQLite, or `processes` on one PostgreSQL behind nginx (`deploy/nginx/bridge.conf`).
struct Harness {
    let standIn: PlatformStandIn
    let bridges: [BridgeProcess]
    let nginx: NginxProcess?
    /// The PostgreSQL URL the benchmark was given, where its own database is dropped at the end.
    let server: String?
    /// That server's root process, when it runs here: only its CPU counts (not other servers').
    let postgresServer: Int32?
    let client: LoadClient

    /// Where the load goes: nginx in front of a cluster, else the one bridge.
    var baseURL: String { nginx?.baseURL ?? bridges[0].baseURL }
    var directory: URL { bridges[0].directory }
    var database: String { bridges[0].database }
    var isPostgres: Bool { database.hasPrefix("postgres") }

    static func start(concurrency: Int, requestTimeout: Duration = .seconds(30), database: String? = nil, processes: Int = 1) async throws -> Harness {
        let standIn = PlatformStandIn(responder: StandInPlatforms.line())
        try await standIn.start()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString.prefix(8))")
        // On PostgreSQL, a database of its own beside the one named, dropped at the end.
        let server = database
        let database = try database.map { try PostgresCLI.freshDatabase(from: $0, name: "ingest_bench_\(dir.lastPathComponent.suffix(8))") }
        if let database { try BridgeProcess.migrate(database) }
        let bridges = try (1...processes).map { n in
            try BridgeProcess(directory: dir, channels: """
                  - kind: line
                    id: bench
                    channelSecret: \(LoadPlan.lineSecret)
                    accessToken: bench-line-token
                    apiBaseURL: \(standIn.baseURL)
                """, database: database, name: "bridge-\(n)")
        }
        for bridge in bridges { try bridge.start() }
        var nginx: NginxProcess?
        if processes > 1 {
            let proxy = try NginxProcess(
                configuration: NginxProcess.repositoryConfiguration, upstreams: bridges.map(\.port), directory: dir.appendingPathComponent("nginx"))
            try proxy.start()
            nginx = proxy
        }
        let timeout = requestTimeout.components
        let harness = Harness(standIn: standIn, bridges: bridges, nginx: nginx, server: server, postgresServer: database.flatMap(ProcessCPU.postgresServer), client: LoadClient(
            baseURL: nginx?.baseURL ?? bridges[0].baseURL, connections: concurrency,
            requestTimeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000)))
        try await harness.waitUntilHealthy()
        return harness
    }

    /// Every process answers `/health`, and so does the address the load goes to.
    func waitUntilHealthy() async throws {
        for _ in 0..<600 {
            for bridge in bridges { try bridge.checkRunning() }
            if await client.send("/health", body: nil, signature: nil) == 200, await eachBridgeIsHealthy() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("the bridge did not come up at \(baseURL)")
    }

    /// Behind nginx, each process on its own (nginx answers as soon as one does).
    private func eachBridgeIsHealthy() async -> Bool {
        guard nginx != nil else { return true }
        for bridge in bridges {
            let direct = LoadClient(baseURL: bridge.baseURL, connections: 1, requestTimeout: .seconds(2))
            let status = await direct.send("/health", body: nil, signature: nil)
            try? await direct.shutdown()
            guard status == 200 else { return false }
        }
        return true
    }

    /// CPU seconds used so far by the bridges, PostgreSQL (0 on SQLite, or a server elsewhere) and nginx.
    func cpu() -> (bridges: Double, postgres: Double, nginx: Double) {
        (bridges.reduce(0) { $0 + ($1.cpuSeconds() ?? 0) }, postgresServer.map(ProcessCPU.postgres(root:)) ?? 0, nginx?.cpuSeconds() ?? 0)
    }

    /// Starts the one bridge again on the same database, with a new client (the old pool backs off from the dead server).
    func restarted() async throws -> Harness {
        try? await client.shutdown()
        for bridge in bridges { try bridge.start() }
        let harness = Harness(
            standIn: standIn, bridges: bridges, nginx: nginx, server: server, postgresServer: postgresServer,
            client: LoadClient(baseURL: baseURL, connections: client.connections, requestTimeout: client.requestTimeout))
        try await harness.waitUntilHealthy()
        return harness
    }

    /// Stops everything and removes the bridges' directory (a SQLite database grows by ~1 KB an event).
    func stop() async throws {
        nginx?.stop()
        for bridge in bridges { bridge.stop() }
        try await client.shutdown()
        await standIn.stop()
        try? FileManager.default.removeItem(at: directory)
        if let server, isPostgres { try PostgresCLI.drop(server, name: "ingest_bench_\(directory.lastPathComponent.suffix(8))") }
    }

    func countStored(seed: String) throws -> (events: Int, messages: Int, duplicatedMessages: Int) {
        let counts = try query("""
            SELECT (SELECT count(*) FROM processed_events WHERE event_id LIKE '\(seed)%'),
                (SELECT count(*) FROM messages WHERE platform_message_id LIKE '\(seed)%'),
                (SELECT count(*) FROM (SELECT platform_message_id FROM messages WHERE platform_message_id LIKE '\(seed)%'
                    GROUP BY platform_message_id HAVING count(*) > 1) AS d)
            """)
        guard let row = counts.first, row.count == 3, let events = Int(row[0]), let messages = Int(row[1]), let doubled = Int(row[2]) else {
            throw BenchmarkError("could not count what was stored")
        }
        return (events, messages, doubled)
    }

    /// How many group commits filed the events whose ids begin with `seed`: a group's events share
    /// one `received_at` (the time the writer took the group, in ms), so two groups taken in the same
    /// millisecond count as one, which is rare at these rates.
    func groups(seed: String) throws -> Int {
        guard let count = try query("SELECT count(DISTINCT received_at) FROM processed_events WHERE event_id LIKE '\(seed)%'").first?.first
            .flatMap({ Int($0) })
        else {
            throw BenchmarkError("could not count the groups")
        }
        return count
    }

    /// Follow-up jobs (profile look-ups, media) not done yet.
    func pendingJobs() throws -> Int {
        guard let count = try query("SELECT count(*) FROM jobs").first?.first.flatMap({ Int($0) }) else {
            throw BenchmarkError("could not count the follow-up jobs")
        }
        return count
    }

    func storedMessageIds(seed: String) throws -> Set<String> {
        Set(try query("SELECT platform_message_id FROM messages WHERE platform_message_id LIKE '\(seed)%'").compactMap(\.first))
    }

    /// Rows of a read on the database, as text: GRDB on SQLite, `psql` on PostgreSQL.
    private func query(_ sql: String) throws -> [[String]] {
        if !isPostgres {
            return try DatabaseQueue(path: bridges[0].databasePath).read { db in
                try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { String.fromDatabaseValue($0) ?? Int64.fromDatabaseValue($0).map(String.init) ?? "" } }
            }
        }
        return try PostgresCLI.query(database, sql)
    }
}
