import AsyncHTTPClient
import Broadcast
import ChannelKit
import Email
import Foundation
import Logging
import Notifier
import SlackChannel
import UniversalInbox

/// What the routes and the background services share, made once from the configuration: the store
/// (on SQLite or PostgreSQL, `ServedDatabase`), the channel adapters, the outbound transports, the
/// keys and secrets kept in the data directory, the live hub and the alert deliveries. `BridgeRouter` and `BridgeServices` only read it.
struct BridgeCore: Sendable {
    let config: BridgeConfig
    let logger: Logger
    let clock: @Sendable () -> Date
    /// The database opened for serving (its client runs as the first service on PostgreSQL).
    let database: ServedDatabase
    let inbox: Inbox
    /// Where the accounts' token buckets keep their balances (`RateLimitLedgers`).
    let rateLimits: any RateLimitLedger
    /// Where the nonces of signatures that do not cover the body are remembered (`NonceLedger`).
    let nonces: any NonceLedger
    let registry: ChannelRegistry
    /// Webhooks' arrivals and signature refusals, counted in the database for the console.
    let webhookActivity: WebhookActivity
    let metrics: BridgeMetrics
    /// What every outbound call goes through (tests may pass their own).
    let transport: any HTTPTransport
    /// The transports the bridge made itself, shut down when it stops (after every other service).
    let ownedTransports: [HTTPClientTransport]
    let adminToken: String
    /// A bcrypt hash of nothing, checked when an e-mail is unknown so sign-in takes as long either way.
    let decoyHash: String
    let historyLinks: HistoryLinks
    /// Seals and opens the tokens of campaign mail's one-click unsubscribe links.
    let unsubscribeTokens: UnsubscribeTokens
    let uploads: UploadStore
    let authenticator: Authenticator
    let live: LiveHub
    /// The website visitors' open sockets (`WidgetSocket`), closed at shutdown.
    let widgetSockets = WidgetSockets()
    /// The visitor API's limits, shared by its routes and its sockets.
    let widgetThrottle: WidgetThrottle
    /// The event log as every website visitor's feed in this process reads it.
    let visitorLog: VisitorLog
    let mailer: SMTPMailer?
    let campaignAccounts: CampaignAccounts
    let vapid: VAPIDKey?
    /// Push alerts: browsers (Web Push), phones (FCM, APNs over HTTP/2).
    let push: [any AlertDelivery]
    let hasher: PasswordHasher
    let consoles: [String: SlackConsole]
    /// Which of the duties that run in one process at a time (distribution, feeds, ...) this one holds.
    let runOnce: RunOnceLeaser

    /// `database` is opened for serving (`ServedDatabase.open(_:servingLock: true, ...)`).
    init(
        config: BridgeConfig, database: ServedDatabase, logger: Logger, transport: (any HTTPTransport)?, clock: @escaping @Sendable () -> Date
    ) throws {
        self.config = config
        self.logger = logger
        self.clock = clock
        self.database = database
        let stores = database.stores(logger: logger)
        let inbox = Inbox(stores: stores, clock: clock, searchLimits: config.search)
        self.inbox = inbox
        runOnce = RunOnceLeaser(leases: try database.runOnceLeases(stores), clock: clock, logger: logger)
        let rateLimits = database.rateLimits(logger: logger)
        self.rateLimits = rateLimits
        nonces = database.nonces(logger: logger)
        let console = ConsoleChannelAccounts(
            store: stores.channelAccounts, box: try SecretBox.load(config), publicBaseURL: config.server.publicBaseURL)
        let mailer = config.email.map(SMTPMailer.init(settings:))
        self.mailer = mailer
        registry = ChannelRegistry(config.channels, rateLimits: rateLimits, console: console, mailer: mailer, logger: logger)
        webhookActivity = WebhookActivity(store: stores.channelAccounts, clock: clock, logger: logger)
        metrics = BridgeMetrics()
        let ownTransport = HTTPClientTransport(policy: config.egress, logger: logger)
        var ownedTransports = [ownTransport]
        let transport = transport ?? ownTransport
        self.transport = transport
        adminToken = try config.adminToken ?? AdminToken.loadOrCreate(in: config.filesDirectory, logger: logger)
        decoyHash = try Passwords.hash(AccessTokens.generate(), cost: config.bcryptCost)
        historyLinks = try HistoryLinks.loadOrCreate(in: config.filesDirectory)
        uploads = try UploadStore.open(directory: config.uploadsDirectory, keyDirectory: config.filesDirectory)
        authenticator = Authenticator(adminToken: adminToken, inbox: inbox)
        live = LiveHub(
            inbox: inbox, logger: logger, heartbeat: .milliseconds(Int64(config.server.liveHeartbeat * 1000)), presenceStore: inbox.stores.presence)
        widgetThrottle = WidgetThrottle(limits: config.widgetLimits, ledger: rateLimits)
        visitorLog = VisitorLog(inbox: inbox)
        let unsubscribeTokens = UnsubscribeTokens(inbox: inbox)
        self.unsubscribeTokens = unsubscribeTokens
        // Without a public address there is no unsubscribe link, and the sender refuses campaign mail.
        let unsubscribeLinks = config.server.publicBaseURL.map { UnsubscribeLinks(tokens: unsubscribeTokens, publicBaseURL: $0) }
        campaignAccounts = CampaignAccounts(
            registry: registry,
            email: mailer.map { EmailSender(mailer: $0, rateLimit: config.emailRateLimit, unsubscribeLinks: unsubscribeLinks) },
            rateLimits: rateLimits)
        do {
            vapid = try config.notifier.vapidPrivateKey.map { try VAPIDKey(privateKey: $0, subject: config.notifier.vapidSubject) }
        } catch {
            throw ConfigError(key: "notifier.vapidPrivateKey", problem: "must be a P-256 private key (32 bytes, base64url)")
        }
        var push: [any AlertDelivery] = vapid.map { [WebPushAlertDelivery(inbox: inbox, vapid: $0, transport: transport)] } ?? []
        do {
            if let account = config.notifier.fcm {
                push.append(try FCMAlertDelivery(inbox: inbox, account: account, apiBaseURL: config.notifier.fcmAPIBaseURL, transport: transport))
            }
        } catch {
            throw ConfigError(key: "notifier.fcm.serviceAccountFile", problem: "has a private_key that is not an RSA key in PEM")
        }
        if let apns = config.notifier.apns {
            // A private CA gets a client of its own.
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
        self.push = push
        self.ownedTransports = ownedTransports
        hasher = PasswordHasher(threads: config.bcryptThreads, maxWaiting: config.bcryptQueue)
        consoles = Dictionary(uniqueKeysWithValues: config.consoles.map { ($0.id, SlackConsole(configuration: $0)) })
    }
}
