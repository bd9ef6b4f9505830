import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import NIOCore
import NIOHTTP1
import PlatformStandIns

/// Two bridges on a fresh PostgreSQL database of their own, behind nginx, with a stand-in for every
/// platform's API.
struct Cluster {
    let seed: String
    /// The PostgreSQL URL the test was given, and the database it made there (`cluster_<seed>`, dropped at the end).
    let server: String
    let database: String
    let bridges: [BridgeProcess]
    let nginx: NginxProcess
    let line, whatsapp, meta, sms, wechat: PlatformStandIn

    static func start(postgres: String) async throws -> Cluster {
        let seed = String(UUID().uuidString.prefix(8).lowercased())
        let database = try PostgresCLI.freshDatabase(from: postgres, name: "cluster_\(seed)")
        try BridgeProcess.migrate(database)
        let line = PlatformStandIn(responder: StandInPlatforms.line())
        let whatsapp = PlatformStandIn(responder: StandInPlatforms.whatsapp())
        let meta = PlatformStandIn(responder: StandInPlatforms.messenger())
        let sms = PlatformStandIn(responder: StandInPlatforms.sms())
        let wechat = PlatformStandIn(responder: StandInPlatforms.wechat())
        for standIn in [line, whatsapp, meta, sms, wechat] { try await standIn.start() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(seed)")
        let nginxPort = try BridgeProcess.freePort()
        let publicBaseURL = "http://127.0.0.1:\(nginxPort)"
        let channels = Traffic.channelConfiguration(line: line, whatsapp: whatsapp, meta: meta, sms: sms, wechat: wechat, publicBaseURL: publicBaseURL)
        // A crashed process's claimed sends and duties are taken over after their leases: short
        // ones here, so the test does not wait the default two minutes.
        let extra = "outbound: { lease: 5s, initialBackoff: 0.2s, maxBackoff: 1s }"
        let bridges = try (1...2).map { n in
            try BridgeProcess(
                directory: directory, channels: channels, database: database, name: "bridge-\(n)", publicBaseURL: publicBaseURL, extra: extra)
        }
        for bridge in bridges { try bridge.start() }
        let nginx = try NginxProcess(
            configuration: NginxProcess.repositoryConfiguration, upstreams: bridges.map(\.port), directory: directory.appendingPathComponent("nginx"), port: nginxPort)
        try nginx.start()
        let cluster = Cluster(seed: seed, server: postgres, database: database, bridges: bridges, nginx: nginx, line: line, whatsapp: whatsapp, meta: meta, sms: sms, wechat: wechat)
        do {
            for base in bridges.map(\.baseURL) + [nginx.baseURL] { try await cluster.waitUntilHealthy(base) }
        } catch {
            try? await cluster.stop()
            throw error
        }
        return cluster
    }

    func waitUntilHealthy(_ base: String) async throws {
        for _ in 0..<600 {
            for bridge in bridges { try bridge.checkRunning() }
            if (try? await api(.GET, "/health", at: base).status) == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("\(base) did not come up")
    }

    func stop() async throws {
        nginx.stop()
        for bridge in bridges { bridge.stop() }
        for standIn in [line, whatsapp, meta, sms, wechat] { await standIn.stop() }
        try? FileManager.default.removeItem(at: bridges[0].directory)
        try PostgresCLI.drop(server, name: "cluster_\(seed)")
    }

    // MARK: HTTP

    /// An API call with the admin token, through nginx unless `at` names a bridge.
    func api(_ method: HTTPMethod, _ path: String, _ body: String? = nil, at base: String? = nil) async throws -> (status: Int, json: Any?) {
        var request = HTTPClientRequest(url: (base ?? nginx.baseURL) + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(BridgeProcess.adminToken)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(buffer: bytes)))
    }

    /// Posts a signed webhook to `base`; the status, or 0 when the connection failed.
    func post(_ webhook: SignedWebhook, to base: String) async throws -> Int {
        var request = HTTPClientRequest(url: base + webhook.path)
        request.method = .POST
        for (name, value) in webhook.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: webhook.body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch {
            return 0
        }
    }

    /// Delivers webhooks through nginx as a platform does: 8 at a time, each again (a few times)
    /// until it is acknowledged. Returns the platform ids of the messages acknowledged.
    func deliver(_ webhooks: [SignedWebhook], ids: [String]) async throws -> Set<String> {
        try await withThrowingTaskGroup(of: (id: String, path: String, status: Int).self) { group in
            var next = 0, acknowledged: Set<String> = [], refused: [String] = []
            func add() {
                let (webhook, id) = (webhooks[next], ids[next])
                next += 1
                group.addTask {
                    var status = 0
                    for attempt in 0..<20 {
                        status = try await post(webhook, to: nginx.baseURL)
                        if status == 200 { break }
                        try await Task.sleep(for: .milliseconds(100 * (attempt + 1)))
                    }
                    return (id, webhook.path, status)
                }
            }
            while next < min(8, webhooks.count) { add() }
            while let result = try await group.next() {
                if result.status == 200 { acknowledged.insert(result.id) } else { refused.append("\(result.path.prefix(24)) \(result.status)") }
                if next < webhooks.count { add() }
            }
            guard refused.isEmpty else {
                throw BenchmarkError("\(refused.count) webhooks were never acknowledged, even redelivered: \(refused.prefix(5).joined(separator: ", "))")
            }
            return acknowledged
        }
    }

    // MARK: What the cluster holds

    /// Every ticket's id, oldest first.
    func tickets() throws -> [Int] {
        try PostgresCLI.query(database, "SELECT id FROM tickets ORDER BY id").compactMap { Int($0[0]) }
    }

    func createCampaign(audience: Int) async throws -> Int {
        let body = #"{"name":"cluster","audience":{"channel":"line"},"channel":"line","content":{"text":"Hi {{contact.name|there}}, a cluster sale"},"start":true}"#
        let (status, json) = try await api(.POST, "/api/v1/campaigns", body)
        guard status == 201 || status == 200, let id = (json as? [String: Any])?["id"] as? Int else {
            throw BenchmarkError("the campaign was refused (\(status)): \(String(describing: json))")
        }
        return id
    }

    /// SIGKILLs the bridge holding the campaign duty once LINE has seen `pushes` campaign pushes;
    /// returns its index.
    func killCampaignHolder(whenPushed pushes: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(300)
        while line.requests(to: "/v2/bot/message/push").filter({ $0.text.contains("cluster sale") }).count < pushes {
            guard ContinuousClock.now < deadline else { throw BenchmarkError("the campaign did not get going") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let holder = try PostgresCLI.query(database, "SELECT holder FROM run_once_leases WHERE duty = 'campaigns'").first?.first ?? ""
        guard let index = bridges.firstIndex(where: { bridge in bridge.pid.map { holder.contains("/\($0)/") } ?? false }) else {
            throw BenchmarkError("no bridge holds the campaign duty (holder \"\(holder)\")")
        }
        bridges[index].kill()
        return index
    }

    struct CampaignOutcome {
        var status: String
        var sent: Int
        var failed: Int
    }

    func waitForCampaign(_ id: Int) async throws -> CampaignOutcome {
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            if let campaign = try? await api(.GET, "/api/v1/campaigns/\(id)").json as? [String: Any],
                let status = campaign["status"] as? String, status == "completed" || status == "cancelled"
            {
                let progress = campaign["progress"] as? [String: Int] ?? [:]
                return CampaignOutcome(
                    status: status, sent: (progress["sent"] ?? 0) + (progress["delivered"] ?? 0) + (progress["read"] ?? 0), failed: progress["failed"] ?? 0)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkError("campaign \(id) did not finish")
    }

    func waitForEmptyOutbox() async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while try PostgresCLI.int(database, "SELECT count(*) FROM outbox") > 0 {
            guard ContinuousClock.now < deadline else { throw BenchmarkError("the outbox did not empty") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// For each reply text: how many requests carried it to a platform, and under how many LINE retry keys.
    func replySends(_ texts: some Sequence<String>) -> [String: (requests: Int, retryKeys: Int)] {
        let requests = [line, whatsapp, meta, sms, wechat].flatMap(\.requests)
        var sends: [String: (requests: Int, retryKeys: Int)] = [:]
        for text in texts {
            let carrying = requests.filter { $0.text.contains(text) }
            sends[text] = (carrying.count, Set(carrying.compactMap { $0.headers["x-line-retry-key"] }).count)
        }
        return sends
    }
}
