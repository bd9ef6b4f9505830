import AsyncHTTPClient
@testable import BridgeServer
import Foundation
import NIOHTTP1
import PlatformSignatures
import PostgresNIO
import PostgresStore
import Synchronization
import Testing
import TestSupport
import UniversalInbox

/// The real `bridge` executable on PostgreSQL: `bridge migrate`, `bridge agent add` and
/// `bridge serve` with a postgres:// `database.url`; an agent signs in, a customer's signed webhook
/// is filed, and the ticket reads back over REST. Needs the throwaway server
/// (`BRIDGE_TEST_POSTGRES_URL`); skipped without it.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["BRIDGE_TEST_POSTGRES_URL"] != nil, "BRIDGE_TEST_POSTGRES_URL is not set"))
struct PostgresServeTests {
    static let appSecret = "whatsapp-serve-app-secret"

    @Test func bridgeServeOnPostgres() async throws {
        let fresh = try await FreshPostgresDatabase.create(on: try TestDatabase.server(), logger: TestDatabase.logger)
        do {
            try await serve(on: fresh.settings)
        } catch {
            try? await fresh.drop()
            throw error
        }
        try await fresh.drop()
    }

    func serve(on database: PostgresSettings) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-serve-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = dir + "/bridge.yaml"
        try """
            server: { host: 127.0.0.1, port: 0 }
            database: { url: "\(url(database))", maxConnections: 4 }
            data: { directory: "\(dir)/data" }
            auth: { bcryptCost: 4 }
            channels:
              - kind: whatsapp
                id: main
                appSecret: \(Self.appSecret)
                verifyToken: verify
                accessToken: token
                phoneNumberId: "\(TestBridge.phoneNumberId)"
            """.write(toFile: yaml, atomically: true, encoding: .utf8)

        // Serving refuses a database that was never migrated, naming database.url.
        let early = try await Executable.run(["serve", "--config", yaml])
        #expect(early.status != 0)
        #expect(early.stderr.contains("database.url: the PostgreSQL schema at"))
        #expect(early.stderr.contains("run `bridge migrate` first"))

        #expect(try await Executable.run(["migrate", "--config", yaml]).status == 0)
        let added = try await Executable.run(
            ["agent", "add", "--config", yaml, "--email", "pia@example.com", "--name", "Pia", "--role", "owner", "--password-stdin"],
            stdin: "correct horse battery\n")
        #expect(added.status == 0, "\(added.stderr)")

        let server = try Executable.start(["serve", "--config", yaml])
        defer { server.terminate() }
        let port = try await server.port()
        let base = "http://127.0.0.1:\(port)"

        let login = try await http(.POST, base + "/api/v1/auth/login", json: #"{"email":"pia@example.com","password":"correct horse battery"}"#)
        #expect(login.status == 201)
        let token = try #require(login.json["token"] as? String)

        let body = Payloads.whatsappText("wamid.SERVEPG1", "hello from postgres")
        let webhook = try await http(
            .POST, base + "/webhooks/whatsapp/main", body: body, headers: PlatformSignatures.meta(Data(body.utf8), appSecret: Self.appSecret))
        #expect(webhook.status == 200)

        let tickets = try await http(.GET, base + "/api/v1/tickets", token: token)
        #expect(tickets.status == 200)
        // The ticket list (store-backed on PostgreSQL already; the single ticket and its message
        // pages follow when InboxQueries and MessagePages are behind the stores).
        let ticket = try #require((tickets.json["items"] as? [[String: Any]])?.first)
        #expect((ticket["contact"] as? [String: Any])?["displayName"] as? String == "Ana")
        #expect((ticket["lastMessage"] as? [String: Any])?["text"] as? String == "hello from postgres")
        #expect(ticket["channels"] as? [String] == ["whatsapp"])

        // The admin token was made in data.directory (the database has no place for it).
        #expect(FileManager.default.fileExists(atPath: dir + "/data/admin-token"))
        #expect(try await server.stop() == 0)
    }

    /// `database.url` as a user writes it (TCP, with the password).
    func url(_ settings: PostgresSettings) -> String {
        guard case .tcp(let host, let port) = settings.endpoint else { return "" }
        return "postgres://\(settings.username):\(settings.password ?? "")@\(host):\(port)/\(settings.database)?sslmode=disable"
    }

    struct Reply {
        var status: Int
        var json: [String: Any]
    }

    func http(_ method: HTTPMethod, _ url: String, body: String? = nil, json: String? = nil, headers: [(String, String)] = [], token: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(Data(json.utf8))
        } else if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(Data(body.utf8))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        return Reply(status: Int(response.status.code), json: (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }
}

/// The built `bridge` executable beside the test bundle (.build/debug/bridge). `Process` is not
/// `Sendable`; it is only started, asked whether it runs and signalled, which it allows from any thread.
final class Executable: @unchecked Sendable {
    static var path: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bridge").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return FileManager.default.currentDirectoryPath + "/.build/debug/bridge"
    }

    private let process: Process
    private let stderr = Mutex("")
    private let exited: AsyncStream<Int32>
    /// Finishes when standard error has been read to its end (the process closed it by exiting).
    private let stderrRead: AsyncStream<Never>

    private init(process: Process, exited: AsyncStream<Int32>, stderrRead: AsyncStream<Never>) {
        self.process = process
        self.exited = exited
        self.stderrRead = stderrRead
    }

    /// Runs `arguments` to the end (stopped with SIGTERM after 60 s: a command that should have
    /// exited fails the test instead of hanging it); its status and standard error.
    static func run(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stderr: String) {
        let running = try start(arguments, stdin: stdin)
        let timer = Task {
            try await Task.sleep(for: .seconds(60))
            Issue.record("bridge \(arguments.first ?? "") did not exit within 60 s")
            running.terminate()
        }
        let status = await running.exitStatus()
        timer.cancel()
        return (status, running.stderr.withLock { $0 })
    }

    static func start(_ arguments: [String], stdin: String? = nil) throws -> Executable {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["BRIDGE_DATABASE_URL"] = nil
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let input = Pipe()
        process.standardInput = input
        let (exited, continuation) = AsyncStream.makeStream(of: Int32.self)
        let (stderrRead, endOfStderr) = AsyncStream.makeStream(of: Never.self)
        let reader = errors.fileHandleForReading
        let running = Executable(process: process, exited: exited, stderrRead: stderrRead)
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        try process.run()
        // Read on a thread of its own, blocking, to the end: the exit status is answered only after
        // it (a reader woken by the pipe could still hold the last lines when the exit was seen).
        Thread.detachNewThread {
            while case let data = reader.availableData, !data.isEmpty {
                running.stderr.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            endOfStderr.finish()
        }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return running
    }

    /// The port `bridge serve` says it listens on (its "bridge listening" log line).
    func port() async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = stderr.withLock { $0 }
            if let match = text.firstMatch(of: /http\.address=127\.0\.0\.1:(\d+)/), let port = Int(match.1) { return port }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestBridge.TimeoutError(what: "bridge serve to listen; its log: \(stderr.withLock { $0 })")
    }

    /// Once the process has exited and its standard error is read to the end.
    func exitStatus() async -> Int32 {
        var status: Int32?
        for await exit in exited {
            status = exit
            break
        }
        for await _ in stderrRead {}
        return status ?? process.terminationStatus
    }

    /// SIGTERM (a graceful stop), then its exit status.
    func stop() async throws -> Int32 {
        process.terminate()
        return await exitStatus()
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }
}
