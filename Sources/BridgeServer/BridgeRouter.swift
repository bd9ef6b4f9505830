import Foundation
import Hummingbird
import UniversalInbox

/// Every HTTP route of the bridge: health and metrics, the platforms' webhooks and Slack, sign-in,
/// the REST API under `/api/v1` behind bearer or cookie authentication, the web pages, and the public
/// history and media links. The live WebSocket is upgraded beside it (`LiveSocket`).
enum BridgeRouter {
    static func make(_ core: BridgeCore) throws -> Router<BridgeRequestContext> {
        let config = core.config
        let (inbox, registry, metrics) = (core.inbox, core.registry, core.metrics)
        let router = Router(context: BridgeRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.get("/health") { _, _ in JSONResponse.text(#"{"status":"ok"}"#, contentType: "application/json") }
        router.get("/metrics") { request, _ in
            try await MetricsAccessCheck(access: config.server.metrics, authenticator: core.authenticator).check(request)
            return JSONResponse.text(metrics.render(), contentType: "text/plain; version=0.0.4")
        }
        router.get("/api/v1/openapi.yaml") { _, _ in JSONResponse.text(try OpenAPIDocument.text(), contentType: "application/yaml") }
        PlatformWebhookController(
            inbox: inbox, registry: registry, metrics: metrics, maxBodyBytes: config.server.maxWebhookBytes,
            publicBaseURL: config.server.publicBaseURL, nonces: core.nonces, activity: core.webhookActivity)
            .addRoutes(to: router)
        SlackController(
            consoles: core.consoles, inbox: inbox, registry: registry, transport: core.transport, metrics: metrics,
            maxBodyBytes: config.server.maxWebhookBytes
        ).addRoutes(to: router)
        let auth = AuthController(
            inbox: inbox, sessionLifetime: config.sessionLifetime, decoyHash: core.decoyHash, throttle: LoginThrottle(limits: config.loginLimits, ledger: core.rateLimits),
            hasher: core.hasher, publicBaseURL: config.server.publicBaseURL)
        auth.addPublicRoutes(to: router.group("/api/v1"))
        let invites = InvitesController(inbox: inbox, bcryptCost: config.bcryptCost, hasher: core.hasher)
        invites.addPublicRoutes(to: router.group("/api/v1"))
        let api = router.group("/api/v1").add(middleware: BearerAuthMiddleware(authenticator: core.authenticator, publicBaseURL: config.server.publicBaseURL))
            .add(middleware: AuditMiddleware(inbox: inbox, logger: core.logger, clock: core.clock))
        auth.addRoutes(to: api)
        api.get("live") { _, _ in
            APIError(status: .upgradeRequired, code: "upgrade_required", message: "connect with a WebSocket client (Upgrade: websocket)").response
        }
        TicketsController(inbox: inbox, registry: registry, metrics: metrics).addRoutes(to: api)
        AssignmentController(inbox: inbox).addRoutes(to: api)
        ContactsController(inbox: inbox).addRoutes(to: api)
        AgentsController(
            inbox: inbox, bcryptCost: config.bcryptCost, hasher: core.hasher, vapidPublicKey: core.vapid?.publicKey, egress: config.egress,
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
        DataController(inbox: inbox, databaseKind: inbox.stores.sqlite == nil ? "postgresql" : "sqlite", startedAt: core.clock(), clock: core.clock).addRoutes(to: api)
        EventsController(inbox: inbox).addRoutes(to: api)
        ReportsController(inbox: inbox, summary: core.config.reports, mailing: core.mailer != nil).addRoutes(to: api)
        RulesController(inbox: inbox).addRoutes(to: api)
        invites.addRoutes(to: api)
        SpamStateController(inbox: inbox, threshold: config.spam.threshold, minimumTraining: config.spam.minimumTraining).addRoutes(to: api)
        CampaignsController(inbox: inbox, registry: registry).addRoutes(to: api)
        CampaignPreviewController(inbox: inbox, registry: registry, accounts: core.campaignAccounts).addRoutes(to: api)
        EmailOptOutsController(inbox: inbox).addRoutes(to: api)
        TemplatesController(registry: registry, transport: core.transport, cache: TemplateCache(clock: core.clock), logger: core.logger).addRoutes(to: api)
        ChannelAccountsController(
            inbox: inbox, registry: registry, store: inbox.stores.channelAccounts, transport: core.transport, publicBaseURL: config.server.publicBaseURL,
            clock: core.clock, logger: core.logger
        ).addRoutes(to: api)
        let assets = try WebAssets.bundled()
        WebController(assets: assets).addRoutes(to: router)
        let confirmations = AddressConfirmations(mailer: core.mailer, throttle: core.widgetThrottle, logger: core.logger, clock: core.clock)
        WidgetController(
            inbox: inbox, visitorLog: core.visitorLog, registry: registry, throttle: core.widgetThrottle, metrics: metrics, uploads: core.uploads, mailer: core.mailer,
            publicBaseURL: config.server.publicBaseURL, confirmations: confirmations, addressHeader: config.loginLimits.addressHeader,
            clock: core.clock
        ).addRoutes(to: router)
        WidgetPageController(assets: assets, registry: registry).addRoutes(to: router)
        UnsubscribeController(inbox: inbox, tokens: core.unsubscribeTokens, assets: assets, logger: core.logger).addRoutes(to: router)
        let export = ExportController(inbox: inbox, links: core.historyLinks, publicBaseURL: config.server.publicBaseURL, metrics: metrics)
        export.addRoutes(to: api)
        export.addPublicRoutes(to: router)
        let uploads = UploadsController(store: core.uploads, maxBytes: config.media.maxUploadBytes, publicBaseURL: config.server.publicBaseURL)
        uploads.addRoutes(to: api)
        uploads.addPublicRoutes(to: router)
        // Last: it runs only for requests no route took (see `MethodNotAllowedMiddleware`).
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes.map { ("\($0.path)", $0.method) }))
        return router
    }

    /// Every route as `METHOD /path/{param}` (a trailing `**` as `{path}`), as the OpenAPI document writes it.
    static func documentedForm(of router: Router<BridgeRequestContext>) -> [String] {
        router.routes.map { route in
            "\(route.method) " + "\(route.path)".split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 == "**" ? "{path}" : String($0) }.joined(separator: "/")
        }
    }
}
