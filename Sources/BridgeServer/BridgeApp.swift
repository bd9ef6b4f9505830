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

/// Assembles the bridge: store, inbox, channel adapters, routes and background services.
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
        /// Held while the bridge runs, so `bridge restore` refuses to replace the database meanwhile.
        var servingLock: ServingLock
    }

    /// `clock` is the time the inbox, its rules and alerts see (tests move it by hand).
    static func build(
        config: BridgeConfig, logger: Logger, transport: (any HTTPTransport)? = nil,
        clock: @escaping @Sendable () -> Date = { Date() },
        janitorInterval: Duration = .seconds(60),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> (app: some ApplicationProtocol, parts: Parts) {
        if let token = config.adminToken { try AdminToken.check(token) }
        let databasePath = try config.sqliteDatabasePath(for: "`bridge serve`")
        let servingLock = try ServingLock.serving(databasePath: databasePath)
        let database = try AppDatabase(path: databasePath)
        let inbox = Inbox(database: database, clock: clock, searchLimits: config.search)
        let registry = ChannelRegistry(config.channels)
        let metrics = BridgeMetrics()
        // The bridge's own transport (tests may pass another); shut down when the bridge stops.
        let ownTransport = HTTPClientTransport(policy: config.egress, logger: logger)
        var ownedTransports = [ownTransport]
        let transport = transport ?? ownTransport
        let adminToken = try config.adminToken ?? AdminToken.loadOrCreate(besides: databasePath, logger: logger)

        let decoyHash = try Passwords.hash(AccessTokens.generate(), cost: config.bcryptCost)
        let historyLinks = try HistoryLinks.loadOrCreate(besides: databasePath)
        let uploads = try UploadStore.open(directory: config.uploadsDirectory, besides: databasePath)
        let authenticator = Authenticator(adminToken: adminToken, inbox: inbox)
        let live = LiveHub(inbox: inbox, logger: logger, heartbeat: .milliseconds(Int64(config.server.liveHeartbeat * 1000)))
        let mailer = config.email.map(SMTPMailer.init(settings:))
        let campaignAccounts = CampaignAccounts(registry: registry, email: mailer.map { EmailSender(mailer: $0, rateLimit: config.emailRateLimit) })
        let vapid: VAPIDKey?
        do {
            vapid = try config.notifier.vapidPrivateKey.map { try VAPIDKey(privateKey: $0, subject: config.notifier.vapidSubject) }
        } catch {
            throw ConfigError(key: "notifier.vapidPrivateKey", problem: "must be a P-256 private key (32 bytes, base64url)")
        }

        // Push alerts: browsers (Web Push), phones (FCM, APNs over HTTP/2; a private CA gets a client of its own).
        var push: [any AlertDelivery] = vapid.map { [WebPushAlertDelivery(inbox: inbox, vapid: $0, transport: transport)] } ?? []
        do {
            if let account = config.notifier.fcm {
                push.append(try FCMAlertDelivery(inbox: inbox, account: account, apiBaseURL: config.notifier.fcmAPIBaseURL, transport: transport))
            }
        } catch {
            throw ConfigError(key: "notifier.fcm.serviceAccountFile", problem: "has a private_key that is not an RSA key in PEM")
        }
        if let apns = config.notifier.apns {
            var apnsTransport = transport
            if let caFile = config.notifier.apnsCAFile {
                let own = HTTPClientTransport(policy: config.egress, tls: try .trusting(caFile: caFile), logger: logger)
                ownedTransports.append(own)
                apnsTransport = own
            }
            do {
                push.append(try APNsAlertDelivery(inbox: inbox, settings: apns, transport: apnsTransport))
            } catch {
                throw ConfigError(key: "notifier.apns.privateKeyFile", problem: "must hold a P-256 private key in PEM (the .p8 file)")
            }
        }

        let router = Router(context: BridgeRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.get("/health") { _, _ in JSONResponse.text(#"{"status":"ok"}"#, contentType: "application/json") }
        router.get("/metrics") { request, _ in
            try await MetricsAccessCheck(access: config.server.metrics, authenticator: authenticator).check(request)
            return JSONResponse.text(metrics.render(), contentType: "text/plain; version=0.0.4")
        }
        router.get("/api/v1/openapi.yaml") { _, _ in JSONResponse.text(try OpenAPIDocument.text(), contentType: "application/yaml") }
        PlatformWebhookController(
            inbox: inbox, registry: registry, metrics: metrics, maxBodyBytes: config.server.maxWebhookBytes,
            publicBaseURL: config.server.publicBaseURL)
            .addRoutes(to: router)
        let consoles = Dictionary(uniqueKeysWithValues: config.consoles.map { ($0.id, SlackConsole(configuration: $0)) })
        SlackController(
            consoles: consoles, inbox: inbox, registry: registry, transport: transport, metrics: metrics, maxBodyBytes: config.server.maxWebhookBytes
        ).addRoutes(to: router)
        let hasher = PasswordHasher(threads: config.bcryptThreads, maxWaiting: config.bcryptQueue)
        let auth = AuthController(
            inbox: inbox, sessionLifetime: config.sessionLifetime, decoyHash: decoyHash, throttle: LoginThrottle(limits: config.loginLimits), hasher: hasher,
            publicBaseURL: config.server.publicBaseURL)
        auth.addPublicRoutes(to: router.group("/api/v1"))
        let api = router.group("/api/v1").add(middleware: BearerAuthMiddleware(authenticator: authenticator, publicBaseURL: config.server.publicBaseURL))
        auth.addRoutes(to: api)
        api.get("live") { _, _ in
            APIError(status: .upgradeRequired, code: "upgrade_required", message: "connect with a WebSocket client (Upgrade: websocket)").response
        }
        TicketsController(inbox: inbox, registry: registry, metrics: metrics).addRoutes(to: api)
        AssignmentController(inbox: inbox).addRoutes(to: api)
        ContactsController(inbox: inbox).addRoutes(to: api)
        AgentsController(
            inbox: inbox, bcryptCost: config.bcryptCost, hasher: hasher, vapidPublicKey: vapid?.publicKey, egress: config.egress,
            pushPlatforms: Set([config.notifier.fcm.map { _ in PushPlatform.fcm }, config.notifier.apns.map { _ in PushPlatform.apns }].compactMap { $0 })
        ).addRoutes(to: api)
        TicketActionsController(inbox: inbox).addRoutes(to: api)
        DraftsController(inbox: inbox).addRoutes(to: api)
        ViewCountsController(inbox: inbox).addRoutes(to: api)
        MessageRetryController(inbox: inbox, registry: registry).addRoutes(to: api)
        SettingsController(inbox: inbox).addRoutes(to: api)
        BulkController(inbox: inbox, registry: registry).addRoutes(to: api)
        OutgoingWebhooksController(inbox: inbox, egress: config.egress).addRoutes(to: api)
        UnreadableEventsController(inbox: inbox).addRoutes(to: api)
        EventsController(inbox: inbox).addRoutes(to: api)
        ReportsController(inbox: inbox).addRoutes(to: api)
        RulesController(inbox: inbox).addRoutes(to: api)
        CampaignsController(inbox: inbox, registry: registry).addRoutes(to: api)
        TemplatesController(registry: registry, transport: transport, cache: TemplateCache(clock: clock), logger: logger).addRoutes(to: api)
        try WebController(assets: WebAssets.bundled()).addRoutes(to: router)
        let export = ExportController(inbox: inbox, links: historyLinks, publicBaseURL: config.server.publicBaseURL, metrics: metrics)
        export.addRoutes(to: api)
        export.addPublicRoutes(to: router)
        let uploadsController = UploadsController(store: uploads, maxBytes: config.media.maxUploadBytes, publicBaseURL: config.server.publicBaseURL)
        uploadsController.addRoutes(to: api)
        uploadsController.addPublicRoutes(to: router)
        // Last: it runs only for requests no route took (see `MethodNotAllowedMiddleware`).
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes.map { ("\($0.path)", $0.method) }))

        // The transports' owners come first: services stop in reverse order, so the clients close last.
        let services: [any Service] = ownedTransports.map { HTTPTransportOwner(transport: $0) } + consoles.values.map { SlackMirror(console: $0, inbox: inbox, transport: transport, logger: logger) } + [
            OutboxDispatcher(inbox: inbox, registry: registry, transport: transport, retry: config.retry, metrics: metrics, logger: logger),
            FollowUpWorker(
                inbox: inbox, registry: registry, transport: transport,
                attachments: try AttachmentStore(directory: config.mediaDirectory), maxMediaBytes: config.media.maxBytes,
                retry: config.retry, logger: logger),
            TicketJanitor(
                inbox: inbox, autoCloseAfter: config.autoCloseAfter, interval: janitorInterval, uploads: uploads,
                uploadRetention: config.media.uploadRetention, logger: logger),
            SearchIndexer(inbox: inbox, logger: logger),
            Distributor(inbox: inbox, registry: registry, queueMessage: config.queueMessage, spam: config.spam, logger: logger),
            live,
            WebhookSender(inbox: inbox, transport: transport, retry: config.retry, logger: logger),
            RulesRunner(inbox: inbox, registry: registry, logger: logger),
            AlertWorker(
                inbox: inbox,
                notifier: Notifier(
                    inbox: inbox,
                    deliveries: [.desktop: DesktopAlertDelivery(live: live)]
                        .merging(push.isEmpty ? [:] : [AlertMedium.push: PushAlertDelivery(services: push, logger: logger)]) { a, _ in a }
                        .merging(
                        config.notifier.smsAccount.flatMap { id in
                            registry.adapter(kind: .sms, id: id).map {
                                [AlertMedium.sms: SMSAlertDelivery(adapter: $0, bucket: registry.bucket(for: "sms/\(id)"), transport: transport)]
                            }
                        } ?? [:]) { a, _ in a }
                        .merging(mailer.map { [AlertMedium.email: EmailAlertDelivery(mailer: $0, bucket: campaignAccounts.emailBucket)] } ?? [:]) { a, _ in a },
                    retry: config.retry, logger: logger),
                config: config.notifier, logger: logger),
            CampaignRunner(
                inbox: inbox, registry: registry,
                sender: CampaignSender(
                    inbox: inbox, accounts: campaignAccounts, transport: transport, retry: config.retry, logger: logger, chunkSize: config.broadcast.chunkSize,
                    concurrency: config.broadcast.concurrency),
                logger: logger),
        ] + [PasswordHasherOwner(hasher: hasher)] + (config.satisfaction.enabled ? [SatisfactionSurveyor(inbox: inbox, registry: registry, config: config.satisfaction, logger: logger)] : [])
        let app = Application(
            router: router,
            server: LiveSocket.upgrade(
                hub: live, authenticator: authenticator, publicBaseURL: config.server.publicBaseURL,
                connections: config.server.connectionPolicy(metrics: metrics)),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "omnichannel-bridge"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? config.server.port) },
            logger: logger)
        let routes = router.routes.map { route in
            "\(route.method) " + "\(route.path)".split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 == "**" ? "{path}" : String($0) }.joined(separator: "/")
        }
        return (app, Parts(inbox: inbox, registry: registry, metrics: metrics, adminToken: adminToken, passwordHasher: hasher, routes: routes, servingLock: servingLock))
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

    /// Starts the server and returns once it accepts connections.
    static func start(
        config: BridgeConfig, logger: Logger, transport: (any HTTPTransport)? = nil, clock: @escaping @Sendable () -> Date = { Date() },
        janitorInterval: Duration = .seconds(60), shutdownSignals: [UnixSignal] = []
    ) async throws -> RunningBridge {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let (app, parts) = try BridgeApp.build(
            config: config, logger: logger, transport: transport, clock: clock, janitorInterval: janitorInterval,
            onServerRunning: { port in
                continuation.yield(port)
                continuation.finish()
            })
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: shutdownSignals, logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var port: Int?
        for await p in ports { port = p }
        guard let port else {
            // The server stopped before listening: surface why.
            _ = try await task.value
            throw ConfigError(key: "server", problem: "the server stopped before it started listening")
        }
        return RunningBridge(port: port, parts: parts, group: group, task: task)
    }

    /// Waits until the bridge stops (a shutdown signal, or `stop()`).
    func wait() async throws {
        defer { parts.servingLock.release() }
        try await task.value
    }

    /// Graceful shutdown: stop accepting, drain the dispatcher, then return.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
        parts.servingLock.release()
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
