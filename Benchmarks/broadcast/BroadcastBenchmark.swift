import ArgumentParser
import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import PlatformStandIns
import UniversalInbox

/// `Benchmarks/broadcast`: campaigns sent by a release `bridge` process to local stand-ins for the
/// platform APIs. `run`: messages/s with limits off on WhatsApp (one request per message), the rate
/// achieved under an 80/s limit, and the bridge's peak memory for two audience sizes. `crash`: a
/// SIGKILL mid-campaign, a restart, and a check that every recipient got the message exactly once.
@main
struct BroadcastBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast-benchmark", abstract: "Campaign throughput, rate limiting, memory and crash safety.",
        subcommands: [Run.self, Crash.self], defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        @Flag(help: "2,000 and 10,000 recipients instead of 10,000 and 100,000; a shorter rate window.") var quick = false

        func run() async throws {
            let sizes = quick ? [2_000, 10_000] : [10_000, 100_000]
            var peaks: [Int] = []
            for size in sizes {
                let result = try await Harness.campaign(recipients: size, whatsappRate: nil)
                peaks.append(result.peakMemory)
                say(String(
                    format: "%7d recipients, limits off: %6.0f messages/s (%d sent in %.2f s), bridge peak memory %.1f MB",
                    size, Double(result.sent) / result.seconds, result.sent, result.seconds, Double(result.peakMemory) / 1_048_576))
            }
            let growth = Double(peaks[1]) / Double(peaks[0]) - 1
            say(String(format: "peak memory at %d vs %d recipients: %+.1f%% (streamed, not loaded: target within 20%%)", sizes[1], sizes[0], growth * 100))
            let window: Duration = quick ? .seconds(5) : .seconds(15)
            let limited = try await Harness.rateLimited(recipients: quick ? 1_000 : 3_000, perSecond: 80, window: window)
            say(String(format: "WhatsApp limited to 80/s: %.1f messages/s over %.0f s (%+.1f%%; target within 5%%)", limited, window.seconds, (limited / 80 - 1) * 100))
        }
    }

    struct Crash: AsyncParsableCommand {
        @Flag(help: "5,000 recipients instead of 20,000.") var quick = false

        func run() async throws {
            let recipients = quick ? 5_000 : 20_000
            let harness = try await Harness.start(lineRecipients: recipients, whatsappRecipients: 0, whatsappRate: nil)
            say("crash test: \(recipients) LINE recipients, personalised text (one push each, under its retry key)")
            let id = try await harness.createCampaign(#"{"name":"crash","audience":{"channel":"line"},"channel":"line","content":{"text":"Hi {{contact.name|there}}, a flash sale"},"start":true}"#)
            while harness.line.requests(to: "/v2/bot/message/push").count < recipients / 3 { try await Task.sleep(for: .milliseconds(5)) }
            harness.bridge.kill()
            let atKill = harness.line.requests(to: "/v2/bot/message/push").count
            say("  SIGKILL after \(atKill) pushes")
            try harness.bridge.start()
            try await harness.waitUntilHealthy()
            let final = try await harness.waitForCampaign(id, timeout: .seconds(600))
            let pushes = harness.line.requests(to: "/v2/bot/message/push")
            var keysByUser: [String: Set<String>] = [:]
            for push in pushes {
                guard let key = push.headers["x-line-retry-key"], let to = (push.json as? [String: Any])?["to"] as? String else { continue }
                keysByUser[to, default: []].insert(key)
            }
            let reached = keysByUser.count
            let doubled = keysByUser.values.filter { $0.count > 1 }.count
            let resends = pushes.count - keysByUser.values.reduce(0) { $0 + $1.count }
            say("  after restart: campaign \(final.status), \(final.sent) sent, \(final.failed) failed; \(reached) of \(recipients) customers reached, \(doubled) under two keys, \(resends) resends under the same key (LINE answers 409: no second delivery)")
            try await harness.stop()
            guard reached == recipients, doubled == 0, final.sent == recipients else {
                throw BenchmarkError("crash test failed: reached \(reached) of \(recipients), \(doubled) doubled, \(final.sent) sent")
            }
            say("crash test: passed (every recipient exactly once)")
        }
    }
}

/// A generated database, the stand-ins, and the bridge process.
struct Harness {
    let bridge: BridgeProcess
    let line: PlatformStandIn
    let whatsapp: PlatformStandIn

    struct Outcome {
        var status: String
        var sent: Int
        var failed: Int
        var seconds: Double
        var peakMemory: Int
    }

    /// One campaign to `recipients` WhatsApp customers: how fast, and the bridge's peak memory.
    static func campaign(recipients: Int, whatsappRate: Double?) async throws -> Outcome {
        let harness = try await start(lineRecipients: 0, whatsappRecipients: recipients, whatsappRate: whatsappRate)
        let id = try await harness.createCampaign(#"{"name":"bench","audience":{"channel":"whatsapp"},"channel":"whatsapp","content":{"text":"Hi {{contact.name|there}}, your order has shipped"},"start":true}"#)
        var outcome = try await harness.waitForCampaign(id, timeout: .seconds(1800))
        outcome.peakMemory = harness.bridge.peakMemoryBytes() ?? 0
        try await harness.stop()
        guard outcome.sent == recipients else { throw BenchmarkError("sent \(outcome.sent) of \(recipients)") }
        return outcome
    }

    /// Messages per second arriving at the WhatsApp stand-in under a limit, after the first seconds' burst.
    static func rateLimited(recipients: Int, perSecond: Double, window: Duration) async throws -> Double {
        let harness = try await start(lineRecipients: 0, whatsappRecipients: recipients, whatsappRate: perSecond)
        let id = try await harness.createCampaign(#"{"name":"limited","audience":{"channel":"whatsapp"},"channel":"whatsapp","content":{"text":"Hello"},"start":true}"#)
        try await Task.sleep(for: .seconds(2))
        let (startCount, startTime) = (harness.whatsapp.requests.count, ContinuousClock.now)
        try await Task.sleep(for: window)
        let (endCount, endTime) = (harness.whatsapp.requests.count, ContinuousClock.now)
        _ = try await harness.call(.POST, "/api/v1/campaigns/\(id)/cancel")
        try await harness.stop()
        return Double(endCount - startCount) / (endTime - startTime).seconds
    }

    static func start(lineRecipients: Int, whatsappRecipients: Int, whatsappRate: Double?) async throws -> Harness {
        let line = PlatformStandIn(responder: StandInPlatforms.line())
        let whatsapp = PlatformStandIn(responder: StandInPlatforms.whatsapp())
        try await line.start()
        try await whatsapp.start()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("broadcast-bench-\(UUID().uuidString.prefix(8))")
        let bridge = try BridgeProcess(directory: dir, channels: """
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
                apiBaseURL: \(whatsapp.baseURL)
                rateLimit: { perSecond: \(whatsappRate ?? 100_000) }
            """)
        try Generator.fill(databasePath: bridge.databasePath, line: lineRecipients, whatsapp: whatsappRecipients)
        try bridge.start()
        let harness = Harness(bridge: bridge, line: line, whatsapp: whatsapp)
        try await harness.waitUntilHealthy()
        return harness
    }

    func waitUntilHealthy() async throws {
        for _ in 0..<300 {
            try bridge.checkRunning()
            if (try? await call(.GET, "/health", timeout: .seconds(1))) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("the bridge did not come up at \(bridge.baseURL)")
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
                    seconds: max(finished.timeIntervalSince(started), 0.001), peakMemory: 0)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkError("campaign \(id) did not finish in time")
    }

    func call(_ method: HTTPMethod, _ path: String, body: String? = nil, timeout: TimeAmount = .seconds(30)) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: bridge.baseURL + path)
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

    func stop() async throws {
        bridge.stop()
        await line.stop()
        await whatsapp.stop()
        try? FileManager.default.removeItem(at: bridge.directory)
    }
}

/// Contacts with a LINE or WhatsApp identity who wrote a minute ago, written straight into the database.
enum Generator {
    static func fill(databasePath: String, line: Int, whatsapp: Int) throws {
        let database = try AppDatabase(path: databasePath)
        let now = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        try database.pool.write { db in
            let contact = try db.makeStatement(sql: "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (?, ?, ?, ?)")
            let identity = try db.makeStatement(sql: """
                INSERT INTO identities (contact_id, account, channel, platform_user_id, display_name, phone, last_inbound_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for i in 0..<(line + whatsapp) {
                let id = Int64(i + 1)
                let name = "Customer \(i)"
                try contact.execute(arguments: [id, name, now, now])
                if i < line {
                    try identity.execute(arguments: [id, "line/bench", "line", String(format: "U%032x", i), name, nil, now, now])
                } else {
                    let phone = String(5511_9000_00000 + i)
                    try identity.execute(arguments: [id, "whatsapp/bench", "whatsapp", phone, name, phone, now, now])
                }
            }
        }
    }
}
