import AsyncHTTPClient
import Broadcast
import Notifier
import ChannelKit
import Email
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlackChannel
import UnixSignals
import UniversalInbox

/// Assembles the bridge from its three parts: what they share (`BridgeCore`), the HTTP routes
/// (`BridgeRouter`) and the background services (`BridgeServices`).
enum BridgeApp {
    struct Parts: Sendable {
        var inbox: Inbox
        var registry: ChannelRegistry
        var metrics: BridgeMetrics
        var adminToken: String
        /// The threads bcrypt runs on.
        var passwordHasher: PasswordHasher
        /// Every route as `METHOD /path/{param}` (a trailing `**` as `{path}`), for checking the OpenAPI document against.
        var routes: [String]
        /// The database served; on SQLite its serving lock is held while the bridge runs, so
        /// `bridge restore` refuses to replace the database meanwhile.
        var database: ServedDatabase
        /// Where the token buckets are kept (`RateLimitLedgers`).
        var rateLimits: any RateLimitLedger
    }

    /// `clock` is the time the inbox, its rules and alerts see (tests move it by hand).
    static func build(
        config: BridgeConfig, logger: Logger, transport: (any HTTPTransport)? = nil,
        clock: @escaping @Sendable () -> Date = { Date() },
        janitorInterval: Duration = .seconds(60),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> (app: some ApplicationProtocol, parts: Parts) {
        // A bad admin token stops the bridge before anything is created.
        if let token = config.adminToken { try AdminToken.check(token) }
        let database = try await ServedDatabase.open(config, servingLock: true, logger: logger)
        do {
            return try assemble(
                config: config, database: database, logger: logger, transport: transport, clock: clock, janitorInterval: janitorInterval,
                onServerRunning: onServerRunning)
        } catch {
            database.release()
            throw error
        }
    }

    private static func assemble(
        config: BridgeConfig, database: ServedDatabase, logger: Logger, transport: (any HTTPTransport)?, clock: @escaping @Sendable () -> Date,
        janitorInterval: Duration, onServerRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> (app: some ApplicationProtocol, parts: Parts) {
        let core = try BridgeCore(config: config, database: database, logger: logger, transport: transport, clock: clock)
        let router = try BridgeRouter.make(core)
        let app = Application(
            router: router,
            server: LiveSocket.upgrade(
                hub: core.live, authenticator: core.authenticator, publicBaseURL: config.server.publicBaseURL,
                connections: config.server.connectionPolicy(metrics: core.metrics),
                widget: WidgetSocket(inbox: core.inbox, visitorLog: core.visitorLog, registry: core.registry, sockets: core.widgetSockets, throttle: core.widgetThrottle)),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "omnichannel-bridge"),
            services: try BridgeServices.make(core, janitorInterval: janitorInterval),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? config.server.port) },
            logger: logger)
        let parts = Parts(
            inbox: core.inbox, registry: core.registry, metrics: core.metrics, adminToken: core.adminToken, passwordHasher: core.hasher,
            routes: BridgeRouter.documentedForm(of: router), database: core.database, rateLimits: core.rateLimits)
        return (app, parts)
    }
}

/// A bridge running in this process: `bridge serve`, `bridge demo` and the end-to-end tests use it.
final class RunningBridge: Sendable {
    let port: Int
    let parts: BridgeApp.Parts
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var inbox: Inbox { parts.inbox }

    private init(port: Int, parts: BridgeApp.Parts, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.parts = parts
        self.group = group
        self.task = task
    }

    /// How long a graceful stop may take before the services are cancelled.
    static let gracefulShutdownLimit: Duration = .seconds(45)

    /// Starts the server and returns once it accepts connections.
    static func start(
        config: BridgeConfig, logger: Logger, transport: (any HTTPTransport)? = nil, clock: @escaping @Sendable () -> Date = { Date() },
        janitorInterval: Duration = .seconds(60), shutdownSignals: [UnixSignal] = []
    ) async throws -> RunningBridge {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let (app, parts) = try await BridgeApp.build(
            config: config, logger: logger, transport: transport, clock: clock, janitorInterval: janitorInterval,
            onServerRunning: { port in
                continuation.yield(port)
                continuation.finish()
            })
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: shutdownSignals, logger: logger)
        // A graceful stop lets work in flight finish (a send gives up after the egress timeout,
        // 30 s) and waits for open connections. A live socket whose client never answers the close
        // (a stalled tab, a client that stopped reading) held it forever, so after this the services
        // are cancelled: their loops end on cancellation, and a send cut short goes again after its
        // lease under the same idempotency key.
        configuration.maximumGracefulShutdownDuration = Self.gracefulShutdownLimit
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var port: Int?
        for await p in ports { port = p }
        guard let port else {
            // The server stopped before listening: surface why.
            defer { parts.database.release() }
            _ = try await task.value
            throw ConfigError(key: "server", problem: "the server stopped before it started listening")
        }
        return RunningBridge(port: port, parts: parts, group: group, task: task)
    }

    /// Waits until the bridge stops (a shutdown signal, or `stop()`).
    func wait() async throws {
        defer { parts.database.release() }
        try await task.value
    }

    /// Graceful shutdown: stop accepting, drain the dispatcher, then return.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
        parts.database.release()
    }
}

/// The OpenAPI document shipped with the executable.
enum OpenAPIDocument {
    static func text() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = FileManager.default.contents(atPath: url.path)
        else { throw APIError(status: .internalServerError, code: "missing_document", message: "openapi.yaml is not bundled") }
        return String(decoding: data, as: UTF8.self)
    }
}
