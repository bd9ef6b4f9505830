import ChannelKit
import Email
import EmailChannel
import Notifier
import Foundation
import LINEChannel
import MessengerChannel
import SMSChannel
import SlackChannel
import UniversalInbox
import WeChatChannel
import WebchatChannel
import WhatsAppChannel

extension BridgeConfig {
    /// The SQLite file `command` works on, or a clear refusal when `database.url` is PostgreSQL
    /// (`bridge backup` and `bridge restore`, which copy the SQLite file).
    func sqliteDatabasePath(for command: String) throws -> String {
        guard let path = database.sqlitePath else {
            throw StartupError(
                description: "database.url is PostgreSQL (\(database)): \(command) is not available on PostgreSQL; back it up with PostgreSQL's own tools (pg_dump, pg_basebackup)")
        }
        return path
    }
}

/// Everything `bridge.yaml` can say, with the defaults that let `bridge serve` run with no file.
struct BridgeConfig: Sendable {
    var server = ServerConfig()
    /// `database.url`: SQLite (the default) or PostgreSQL.
    var database = DatabaseLocation.default
    /// The SQLite file (setting it picks SQLite); on PostgreSQL the default path, unused.
    var databasePath: String {
        get { database.sqlitePath ?? "./data/bridge.sqlite" }
        set { database = .sqlite(path: newValue) }
    }
    /// `database.maxConnections`: the most connections one process opens to PostgreSQL at once.
    var databaseMaxConnections = 20
    /// `data.directory`; nil: `filesDirectory`'s default.
    var dataDirectory: String?
    /// Where the files kept besides the database are: the secrets (`admin-token`, `history-link-key`,
    /// `media-link-key`) and, unless `media.directory` says otherwise, the attachments and uploads.
    /// `data.directory`, by default the SQLite file's directory, or `./data` on PostgreSQL. Every
    /// process serving one PostgreSQL database must share it (the same keys, the same files).
    var filesDirectory: String {
        if let dataDirectory { return dataDirectory }
        switch database {
        case .sqlite(let path): return URL(fileURLWithPath: path).deletingLastPathComponent().path
        case .postgres: return "./data"
        }
    }
    /// At least 32 characters (`AdminToken.check`); nil: the bridge makes one in `admin-token`.
    var adminToken: String?
    /// `BRIDGE_SECRETS_KEY`: the key (32 bytes, base64) that encrypts the secrets of channel accounts
    /// added from the console. Takes precedence over `secretsKeyFile`.
    var secretsKey: String?
    /// `data.secretsKeyFile`: a file holding that key (base64). Neither set: the console refuses
    /// accounts with secrets (`SecretBox`).
    var secretsKeyFile: String?
    /// bcrypt work factor for agent passwords (4 to 31; each step doubles the time).
    var bcryptCost = 12
    /// Threads that run bcrypt (logins and password changes), apart from every other request.
    var bcryptThreads = 1
    /// bcrypt jobs that may wait for a thread; beyond, a login is answered 503 at once.
    var bcryptQueue = 16
    /// Failed logins allowed per account and per client address.
    var loginLimits = LoginThrottle.Limits()
    /// New website chats and visitors' messages allowed per visitor and per client address.
    var widgetLimits = WidgetThrottle.Limits()
    /// How long a login token lasts.
    var sessionLifetime: TimeInterval = 12 * 3600
    /// Told to a customer whose new ticket waits for an agent; `{{position}}` and `{{wait}}`
    /// (minutes) are filled in. Off (nil) by default.
    var queueMessage: String?
    var spam = SpamConfig()
    /// What a ticket search may ask for and how long it may run (`search:`).
    var search = SearchLimits()
    var satisfaction = SatisfactionConfig()
    var broadcast = BroadcastConfig()
    var notifier = NotifierConfig()
    /// When the daily summary e-mail goes out (`reports:`).
    var reports = ReportsConfig()
    /// The SMTP relay for agents' e-mail alerts and e-mail campaigns; none: no e-mail.
    var email: SMTPSettings?
    /// The relay's sending limit (campaigns and alerts share it).
    var emailRateLimit = RateLimit(perSecond: 10)

    /// Agents' alerts.
    struct NotifierConfig: Sendable {
        /// The SMS account (its `id`) alerts by SMS go through; none: no SMS alerts.
        var smsAccount: String?
        /// Customer messages on one ticket within this long become one alert with a count.
        var coalesceWindow: TimeInterval = 30
        /// A ticket queued longer than this alerts its department.
        var waitingAfter: TimeInterval = 600
        /// Web Push: the VAPID private key (raw 32 bytes, base64url) and contact; none: no push alerts.
        var vapidPrivateKey: String?
        var vapidSubject = "mailto:support@example.com"
        /// FCM: the service account (from its JSON key file) and the API's address; none: no FCM alerts.
        var fcm: FCMServiceAccount?
        var fcmAPIBaseURL = "https://fcm.googleapis.com"
        /// APNs (token-based); none: no APNs alerts.
        var apns: APNsSettings?
        /// A PEM bundle to trust for APNs instead of the system's roots (a private stand-in).
        var apnsCAFile: String?
    }

    /// How campaigns are sent (each account's rate limit still applies).
    struct BroadcastConfig: Sendable {
        /// Recipients claimed from the database at a time.
        var chunkSize = 500
        /// Single sends in flight at once.
        var concurrency = 64
    }

    /// Rating requests after a ticket is resolved.
    /// The daily summary e-mail: yesterday's figures, sent at `summaryHour` in `timeZone` (whose
    /// days the figures count) to the owners and admins who opted in, over the `email:` relay.
    struct ReportsConfig: Sendable {
        var summaryHour = 8
        var timeZone = TimeZone(identifier: "UTC")!
    }

    struct SatisfactionConfig: Sendable {
        var enabled = false
        var question = "How would you rate our help?"
        var good = "👍 Good"
        var bad = "👎 Bad"
    }

    /// The learning spam filter.
    struct SpamConfig: Sendable {
        /// A new ticket at or above this spam probability goes to the spam box.
        var threshold = 0.95
        /// The filter acts once agents have marked this many tickets of each kind.
        var minimumTraining = 5
    }
    var media = MediaConfig()
    /// A resolved ticket closes by itself after this long.
    var autoCloseAfter: TimeInterval = 14 * 24 * 3600
    var retry = RetryPolicy()
    /// How long a process holds a reply it is sending before another may take it over (`outbound.lease`):
    /// after a crash, a cluster's other processes send what the dead one had claimed once this runs out.
    var outboundLease: TimeInterval = 120
    /// Where outbound HTTP may go (`egress.allow`) and how long a request may take.
    var egress = EgressPolicy()
    var channels: [ChannelConfig] = []
    /// Agent consoles (Slack workspaces).
    var consoles: [SlackConfiguration] = []

    struct ServerConfig: Sendable {
        var host = "127.0.0.1"
        var port = 8080
        /// Largest webhook body accepted.
        var maxWebhookBytes = 1 << 20
        /// The URL platforms reach the bridge at (e.g. https://bridge.example.com): Twilio signs it,
        /// and status callbacks are sent to it. Without it, the request's Host header is used.
        var publicBaseURL: String?
        /// Who may read `/metrics`.
        var metrics = MetricsAccess.token
        /// A new connection's first request headers must have arrived this long after it opened.
        var headerReadTimeout: TimeInterval = 10
        /// A connection with no request in progress, or whose request stopped arriving, is closed after this.
        var idleTimeout: TimeInterval = 60
        /// Connections open at once; one more is answered 503 and closed.
        var maxConnections = 512
        /// How often every live socket gets a `heartbeat`: a page that hears nothing for a few of
        /// them takes its socket for dead (a laptop that slept, a proxy that dropped it half-open)
        /// and reconnects. Below proxies' usual 60 s idle cut-off.
        var liveHeartbeat: TimeInterval = 25

        func connectionPolicy(metrics: BridgeMetrics) -> ConnectionPolicy {
            ConnectionPolicy(
                headerReadTimeout: .seconds(headerReadTimeout), idleTimeout: .seconds(idleTimeout), maxConnections: maxConnections,
                onRefused: { metrics.connectionRefused() })
        }
    }

    /// `server.metrics`: `public` (anyone who can reach the port), `token` (the admin token or an
    /// owner's or admin's bearer token) or `off` (404).
    enum MetricsAccess: String, Sendable, CaseIterable {
        case `public`, token, off
    }

    struct MediaConfig: Sendable {
        /// Where downloaded attachments are kept; defaults to `attachments/` in `filesDirectory`.
        var directory: String?
        var maxBytes = 20 << 20
        /// Largest image an agent may upload (`POST /api/v1/uploads`): 10 MiB, LINE's limit for
        /// images sent by URL (WhatsApp takes 5 MB; Messenger 25 MB).
        var maxUploadBytes = 10 << 20
        /// Uploaded images are deleted this long after they were uploaded (the platforms fetch
        /// them when the reply goes, and LINE again when a customer opens an image it let expire).
        var uploadRetention: TimeInterval = 30 * 86400
    }

    /// The attachment directory in force.
    var mediaDirectory: String {
        media.directory ?? URL(fileURLWithPath: filesDirectory).appendingPathComponent("attachments").path
    }

    /// Where agents' uploaded images are kept: `uploads/` beside the attachment directory.
    var uploadsDirectory: String {
        URL(fileURLWithPath: mediaDirectory).standardizedFileURL.deletingLastPathComponent().appendingPathComponent("uploads").path
    }
}

/// One configured channel account.
enum ChannelConfig: Sendable {
    case line(LINEConfiguration)
    case whatsapp(WhatsAppConfiguration)
    /// Messenger or Instagram.
    case messenger(MessengerConfiguration)
    case sms(SMSConfiguration)
    case wechat(WeChatConfiguration)
    /// The website chat widget.
    case webchat(WebchatConfiguration)
    case email(EmailConfiguration)

    var account: ChannelAccountRef {
        switch self {
        case .line(let c): ChannelAccountRef(kind: .line, id: c.id)
        case .whatsapp(let c): ChannelAccountRef(kind: .whatsapp, id: c.id)
        case .messenger(let c): ChannelAccountRef(kind: c.kind, id: c.id)
        case .sms(let c): ChannelAccountRef(kind: .sms, id: c.id)
        case .wechat(let c): ChannelAccountRef(kind: .wechat, id: c.id)
        case .webchat(let c): ChannelAccountRef(kind: .webchat, id: c.id)
        case .email(let c): ChannelAccountRef(kind: .email, id: c.id)
        }
    }

    var rateLimit: RateLimit? {
        switch self {
        case .line(let c): c.rateLimit
        case .whatsapp(let c): c.rateLimit
        case .messenger(let c): c.rateLimit
        case .sms(let c): c.rateLimit
        case .wechat(let c): c.rateLimit
        case .webchat(let c): c.rateLimit
        case .email(let c): c.rateLimit
        }
    }

    /// The account's adapter; e-mail accounts reply through `mailer` (the SMTP relay), from their own address.
    func makeAdapter(mailer: SMTPMailer? = nil) -> any ChannelAdapter {
        switch self {
        case .line(let c): LINEAdapter(configuration: c)
        case .whatsapp(let c): WhatsAppAdapter(configuration: c)
        case .messenger(let c): MessengerAdapter(configuration: c)
        case .sms(let c): SMSAdapter(configuration: c)
        case .wechat(let c): WeChatAdapter(configuration: c)
        case .webchat(let c): WebchatAdapter(configuration: c)
        case .email(let c):
            EmailAdapter(configuration: c, relay: mailer.map { EmailSender(mailer: $0, from: c.from) })
        }
    }
}
