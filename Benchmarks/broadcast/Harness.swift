import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import NIOCore
import NIOHTTP1
import PlatformStandIns

/// The stand-ins, a database filled with the audience, and the bridge: one process on a new SQLite
/// file, or `processes` on a database of their own on a PostgreSQL server, behind nginx
/// (`deploy/nginx/bridge.conf`) when there are several.
struct Harness {
    let bridges: [BridgeProcess]
    let nginx: NginxProcess?
    let line: PlatformStandIn
    /// One WhatsApp stand-in per process (the same account, so the same rate-limit bucket): what
    /// each received is what that process sent.
    let whatsapps: [PlatformStandIn]
    /// The PostgreSQL URL the benchmark was given, where its own database is dropped at the end.
    let server: String?
    let audience: Audience
    /// The PostgreSQL server's root process, when it runs here (its CPU is counted, no other server's).
    let postgresServer: Int32?

    /// The first (on SQLite, the only) process.
    var bridge: BridgeProcess { bridges[0] }
    /// Where the API calls go: nginx in front of a cluster, else the one bridge.
    var baseURL: String { nginx?.baseURL ?? bridges[0].baseURL }
    var directory: URL { bridges[0].directory }
    var isPostgres: Bool { server != nil }
    var databaseName: String { "broadcast_bench_\(directory.lastPathComponent.suffix(8))" }

    struct Outcome {
        var status: String
        var sent: Int
        var failed: Int
        var seconds: Double
        var peakMemory = 0
        var cpu = CPU()
        var sentBy: [Sent] = []
    }

    /// The messages one process sent: the campaign's, and individual ones (the outbox).
    struct Sent {
        var campaign = 0
        var individual = 0
    }

    /// CPU seconds used by each bridge process and by PostgreSQL (0 on SQLite).
    struct CPU {
        var bridges: [Double] = []
        var postgres = 0.0

        static func - (after: CPU, before: CPU) -> CPU {
            CPU(bridges: zip(after.bridges, before.bridges).map { $0 - $1 }, postgres: after.postgres - before.postgres)
        }
    }

    /// One campaign to every WhatsApp customer of `audience`: how fast, the CPU it took, the bridges'
    /// peak memory; every customer reached exactly once, or it throws.
    static func campaign(_ audience: Audience, whatsappRate: Double?, database: String?, processes: Int) async throws -> Outcome {
        try await with(audience, whatsappRate: whatsappRate, database: database, processes: processes) { harness in
            let before = harness.cpu()
            let id = try await harness.createCampaign(#"{"name":"bench","audience":{"channel":"whatsapp"},"channel":"whatsapp","content":{"text":"Hi {{contact.name|there}}, your order has shipped"},"start":true}"#)
            var outcome = try await harness.waitForCampaign(id, timeout: .seconds(1800))
            outcome.cpu = harness.cpu() - before
            outcome.peakMemory = harness.bridges.compactMap { $0.peakMemoryBytes() }.max() ?? 0
            outcome.sentBy = harness.sentByProcess()
            try harness.checkReachedOnce(sent: outcome.sent)
            return outcome
        }
    }

    /// Messages per second arriving at the WhatsApp stand-in under a limit, after the first seconds'
    /// burst; then everything runs to its end and every customer is checked reached exactly once.
    ///
    /// With several processes, one of them holds the campaigns duty and sends the campaign alone;
    /// so that every process sends to the account at once, `replies` individual messages (the
    /// outbox, which every process's dispatcher claims from) go to the first customers alongside,
    /// posted to the processes in turn: the rate is then the account's, across the cluster.
    static func rateLimited(_ audience: Audience, perSecond: Double, window: Duration, replies: Int, database: String?, processes: Int)
        async throws -> (rate: Double, cpu: CPU, sentBy: [Sent])
    {
        try await with(audience, whatsappRate: perSecond, database: database, processes: processes) { harness in
            let before = harness.cpu()
            let id = try await harness.createCampaign(#"{"name":"limited","audience":{"channel":"whatsapp"},"channel":"whatsapp","content":{"text":"Hello"},"start":true}"#)
            try await harness.sendReplies(replies)
            try await Task.sleep(for: .seconds(2))
            let (startCount, startTime) = (harness.sentTexts().count, ContinuousClock.now)
            try await Task.sleep(for: window)
            let (endCount, endTime) = (harness.sentTexts().count, ContinuousClock.now)
            let outcome = try await harness.waitForCampaign(id, timeout: .seconds(Double(audience.whatsapp + replies) / perSecond * 3 + 60))
            try await harness.waitForReplies(replies, timeout: .seconds(Double(replies) / perSecond * 3 + 60))
            try harness.checkReachedOnce(sent: outcome.sent, replies: replies)
            let sentBy = harness.sentByProcess()
            if replies > 0, let idle = sentBy.firstIndex(where: { $0.campaign + $0.individual == 0 }) {
                throw BenchmarkError("bridge-\(idle + 1) sent nothing: the rate was not measured across the cluster")
            }
            return (Double(endCount - startCount) / (endTime - startTime).seconds, harness.cpu() - before, sentBy)
        }
    }

    /// The individual messages' text, which tells them from the campaign's at the stand-in.
    static let replyText = "A reply from the cluster"

    /// An individual message to each of the first `count` WhatsApp customers, 16 posted at a time,
    /// to each process in turn.
    func sendReplies(_ count: Int) async throws {
        let body = #"{"text":"\#(Self.replyText)"}"#
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<count {
                if n >= 16 { try await group.next() }
                let base = bridges[n % bridges.count].baseURL
                let contact = audience.line + n + 1
                group.addTask { _ = try await call(.POST, "/api/v1/contacts/\(contact)/messages", on: base, body: body) }
            }
            try await group.waitForAll()
        }
    }

    /// Waits until the stand-in has seen `count` individual messages.
    func waitForReplies(_ count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while sentTexts().filter({ $0.text == Self.replyText }).count < count {
            guard ContinuousClock.now < deadline else { throw BenchmarkError("the individual messages were not all sent in time") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Who each message the WhatsApp stand-ins received went to, and its text (of process `n`'s stand-in, or of all).
    func sentTexts(byProcess n: Int? = nil) -> [(to: String, text: String)] {
        (n.map { [whatsapps[$0]] } ?? whatsapps).flatMap { $0.requests(to: "/") }.filter { $0.path.hasSuffix("/messages") }.map { request in
            let json = request.json as? [String: Any]
            return (json?["to"] as? String ?? "", (json?["text"] as? [String: Any])?["body"] as? String ?? "")
        }
    }

    /// What each process sent so far.
    func sentByProcess() -> [Sent] {
        bridges.indices.map { n in
            let texts = sentTexts(byProcess: n)
            let individual = texts.filter { $0.text == Self.replyText }.count
            return Sent(campaign: texts.count - individual, individual: individual)
        }
    }

    /// Runs `body` on a started harness and stops it afterwards, whether `body` threw or not.
    static func with<T>(
        _ audience: Audience, whatsappRate: Double?, database: String?, processes: Int, _ body: (Harness) async throws -> T
    ) async throws -> T {
        let harness = try await start(audience, whatsappRate: whatsappRate, database: database, processes: processes)
        do {
            let result = try await body(harness)
            try await harness.stop()
            return result
        } catch {
            try? await harness.stop()
            throw error
        }
    }

    static func start(_ audience: Audience, whatsappRate: Double?, database server: String? = nil, processes: Int = 1) async throws -> Harness {
        let line = PlatformStandIn(responder: StandInPlatforms.line())
        let whatsapps = (1...processes).map { _ in PlatformStandIn(responder: StandInPlatforms.whatsapp()) }
        try await line.start()
        for whatsapp in whatsapps { try await whatsapp.start() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("broadcast-bench-\(UUID().uuidString.prefix(8))")
        // On PostgreSQL, a database of its own beside the one named, dropped at the end.
        let database = try server.map { try PostgresCLI.freshDatabase(from: $0, name: "broadcast_bench_\(dir.lastPathComponent.suffix(8))") }
        let bridges = try (1...processes).map { n in
            try BridgeProcess(directory: dir, channels: """
                  - kind: line
                    id: bench
                    channelSecret: bench-line-secret
                    accessToken: bench-line-token
                    apiBaseURL: \(line.baseURL)
                    rateLimit: { perSecond: 100000 }
                  - kind: whatsapp
                    id: bench
                    appSecret: bench-app-secret
                    verifyToken: bench-verify
                    accessToken: bench-wa-token
                    phoneNumberId: "106540352242922"
                    apiBaseURL: \(whatsapps[n - 1].baseURL)
                    rateLimit: { perSecond: \(whatsappRate ?? 100_000) }
                """, database: database, name: "bridge-\(n)")
        }
        var nginx: NginxProcess?
        if processes > 1 {
            nginx = try NginxProcess(
                configuration: NginxProcess.repositoryConfiguration, upstreams: bridges.map(\.port), directory: dir.appendingPathComponent("nginx"))
        }
        let harness = Harness(
            bridges: bridges, nginx: nginx, line: line, whatsapps: whatsapps, server: server, audience: audience,
            postgresServer: server.flatMap(ProcessCPU.postgresServer))
        do {
            if let database { try BridgeProcess.migrate(database) }
            try audience.fill(bridges[0].database)
            for bridge in bridges { try bridge.start() }
            try nginx?.start()
            try await harness.waitUntilHealthy()
        } catch {
            try? await harness.stop()
            throw error
        }
        return harness
    }

    /// Every process answers `/health`, and so does the address the API calls go to.
    func waitUntilHealthy() async throws {
        for _ in 0..<600 {
            for bridge in bridges { try bridge.checkRunning() }
            var healthy = (try? await call(.GET, "/health", timeout: .seconds(1))) != nil
            for bridge in bridges where healthy && nginx != nil {
                healthy = (try? await call(.GET, "/health", on: bridge.baseURL, timeout: .seconds(1))) != nil
            }
            if healthy { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("the bridge did not come up at \(baseURL)")
    }

    /// CPU seconds used so far by each bridge and by PostgreSQL.
    func cpu() -> CPU {
        CPU(bridges: bridges.map { $0.cpuSeconds() ?? 0 }, postgres: postgresServer.map(ProcessCPU.postgres(root:)) ?? 0)
    }

    /// Every WhatsApp customer got exactly one campaign message and the campaign counted each as
    /// sent, and the first `replies` customers one individual message each; otherwise throws, saying
    /// how many were missed, doubled or unexpected.
    func checkReachedOnce(sent: Int, replies: Int = 0) throws {
        var campaign: [String: Int] = [:]
        var individual: [String: Int] = [:]
        for (to, text) in sentTexts() {
            if text == Self.replyText { individual[to, default: 0] += 1 } else { campaign[to, default: 0] += 1 }
        }
        let expected = audience.whatsappPhones
        let replied = Set((0..<replies).map { String(Audience.firstPhone + audience.line + $0) })
        for (what, counts, expected) in [("campaign", campaign, expected), ("individual", individual, replied)] {
            let missed = expected.filter { counts[$0] == nil }.count
            let doubled = counts.values.filter { $0 > 1 }.count
            let unexpected = counts.keys.filter { !expected.contains($0) }.count
            guard missed == 0, doubled == 0, unexpected == 0 else {
                throw BenchmarkError("not every \(what) message reached its customer exactly once: \(missed) missed, \(doubled) reached more than once, \(unexpected) unexpected")
            }
        }
        guard sent == expected.count else { throw BenchmarkError("the campaign counted \(sent) of \(expected.count) sent") }
    }

    func createCampaign(_ json: String) async throws -> Int {
        guard let id = try await call(.POST, "/api/v1/campaigns", body: json)["id"] as? Int else { throw BenchmarkError("no campaign id") }
        return id
    }

    func waitForCampaign(_ id: Int, timeout: Duration) async throws -> Outcome {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let campaign = try await call(.GET, "/api/v1/campaigns/\(id)")
            let status = campaign["status"] as? String ?? ""
            if status == "completed" || status == "cancelled" {
                let progress = campaign["progress"] as? [String: Int] ?? [:]
                let started = (campaign["startedAt"] as? String).flatMap { try? Date($0, strategy: .iso8601) } ?? Date()
                let finished = (campaign["finishedAt"] as? String).flatMap { try? Date($0, strategy: .iso8601) } ?? Date()
                return Outcome(
                    status: status, sent: (progress["sent"] ?? 0) + (progress["delivered"] ?? 0) + (progress["read"] ?? 0), failed: progress["failed"] ?? 0,
                    seconds: max(finished.timeIntervalSince(started), 0.001))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkError("campaign \(id) did not finish in time")
    }

    /// An admin API call to `base` (default: `baseURL`); the answer's JSON object.
    func call(_ method: HTTPMethod, _ path: String, on base: String? = nil, body: String? = nil, timeout: TimeAmount = .seconds(30)) async throws
        -> [String: Any]
    {
        var request = HTTPClientRequest(url: (base ?? baseURL) + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(BridgeProcess.adminToken)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 4 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw BenchmarkError("\(method) \(path): \(response.status.code) \(String(buffer: bytes))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
    }

    /// Stops everything, removes the bridges' directory and, on PostgreSQL, drops the benchmark's database.
    func stop() async throws {
        nginx?.stop()
        for bridge in bridges { bridge.stop() }
        await line.stop()
        for whatsapp in whatsapps { await whatsapp.stop() }
        try? FileManager.default.removeItem(at: directory)
        if let server { try PostgresCLI.drop(server, name: databaseName) }
    }
}
