import ChannelKit
import Email
import EmailChannel
import Notifier
import Foundation
import LINEChannel
import MessengerChannel
import SMSChannel
import SlackChannel
import WeChatChannel
import WebchatChannel
import UniversalInbox
import WhatsAppChannel
import Yams

/// Reads `bridge.yaml`: `--config PATH`, else `BRIDGE_CONFIG`, else `./bridge.yaml` if present, else
/// defaults. Environment overrides: `BRIDGE_HOST`, `BRIDGE_PORT`, `BRIDGE_DATABASE_URL`, `BRIDGE_ADMIN_TOKEN`.
enum ConfigLoader {
    static func load(path explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BridgeConfig {
        let path = explicitPath ?? environment["BRIDGE_CONFIG"] ?? (FileManager.default.fileExists(atPath: "bridge.yaml") ? "bridge.yaml" : nil)
        var text = ""
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError(key: "", problem: "cannot read config file \(path)")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        return try parse(yaml: text, environment: environment)
    }

    /// YAML that Yams would trap on or take forever to build, refused first: keys that are not
    /// text (Yams force-unwraps them), nesting deeper than any config has, and aliases expanding
    /// into more nodes than any config has (a "billion laughs").
    static func checkShape(_ root: Node) throws {
        var visited = 0
        func walk(_ node: Node, depth: Int) throws {
            visited += 1
            guard visited <= 100_000 else { throw ConfigError(key: "", problem: "is too large (aliases expanding to more than 100000 values)") }
            guard depth <= 32 else { throw ConfigError(key: "", problem: "is nested more than 32 levels deep") }
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    guard case .scalar = key else { throw ConfigError(key: "", problem: "has a key that is not text (a list or mapping used as a key)") }
                    try walk(value, depth: depth + 1)
                }
            case .sequence(let sequence):
                for item in sequence { try walk(item, depth: depth + 1) }
            case .scalar(let scalar):
                // YAML 1.1 reads a plain 1:30 as the base-60 number 90, and Yams traps when such a
                // number overflows: refuse it before it is read (quoted, it is text).
                if scalar.style == .plain, scalar.string.contains(":"),
                    scalar.string.wholeMatch(of: /[-+]?[0-9][0-9_]*(:[0-9_]+)+(\.[0-9_]*)?/) != nil
                {
                    throw ConfigError(key: "", problem: "has the value \"\(scalar.string)\", which YAML reads as a base-60 number; quote it if it is text")
                }
            case .alias:
                break
            }
        }
        try walk(root, depth: 0)
    }

    static func parse(yaml: String, environment: [String: String] = [:]) throws -> BridgeConfig {
        let root: Any?
        do {
            let document = try Yams.compose(yaml: yaml)
            if let document { try checkShape(document) }
            root = document?.any
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(key: "", problem: "is not valid YAML: \(error)")
        }
        let node = ConfigNode(value: root, path: "", environment: environment)
        if node.isPresent, !(root is [String: Any]) { throw ConfigError(key: "", problem: "the config must be a mapping at the top level") }
        try node.checkKeys(["server", "database", "data", "auth", "media", "tickets", "spam", "search", "satisfaction", "broadcast", "notifier", "email", "outbound", "egress", "channels", "reports"])
        var config = BridgeConfig()

        let server = node.child("server")
        try server.checkKeys(["host", "port", "maxWebhookBytes", "publicBaseURL", "metrics", "headerReadTimeout", "idleTimeout", "maxConnections", "liveHeartbeat"])
        if let metrics = try server.child("metrics").string() {
            // YAML reads a bare `off` as false.
            guard let access = BridgeConfig.MetricsAccess(rawValue: metrics == "false" ? "off" : metrics) else {
                throw ConfigError(key: "server.metrics", problem: "must be public, token or off, got \"\(metrics)\"")
            }
            config.server.metrics = access
        }
        config.server.publicBaseURL = try server.child("publicBaseURL").url()
        config.server.host = try server.child("host").string() ?? config.server.host
        config.server.port = try server.child("port").int() ?? config.server.port
        config.server.maxWebhookBytes = try server.child("maxWebhookBytes").int() ?? config.server.maxWebhookBytes
        config.server.headerReadTimeout = try server.child("headerReadTimeout").timeout() ?? config.server.headerReadTimeout
        config.server.idleTimeout = try server.child("idleTimeout").timeout() ?? config.server.idleTimeout
        config.server.maxConnections = try server.child("maxConnections").positiveInt() ?? config.server.maxConnections
        if let heartbeat = try server.child("liveHeartbeat").timeout() {
            guard heartbeat >= 0.1 else { throw ConfigError(key: "server.liveHeartbeat", problem: "must be at least 0.1s") }
            config.server.liveHeartbeat = heartbeat
        }

        let search = node.child("search")
        try search.checkKeys(["maxQueryLength", "maxTerms", "timeout"])
        config.search.maxQueryLength = try search.child("maxQueryLength").positiveInt() ?? config.search.maxQueryLength
        config.search.maxTerms = try search.child("maxTerms").positiveInt() ?? config.search.maxTerms
        if let timeout = try search.child("timeout").timeout() { config.search.timeout = .seconds(timeout) }

        let database = node.child("database")
        try database.checkKeys(["url", "maxConnections"])
        if let url = try database.child("url").string() { config.database = try DatabaseURL.parse(url, key: "database.url") }
        config.databaseMaxConnections = try database.child("maxConnections").positiveInt() ?? config.databaseMaxConnections
        let data = node.child("data")
        try data.checkKeys(["directory", "secretsKeyFile"])
        config.dataDirectory = try data.child("directory").string()
        config.secretsKeyFile = try data.child("secretsKeyFile").string()

        let auth = node.child("auth")
        try auth.checkKeys(["adminToken", "bcryptCost", "bcryptThreads", "bcryptQueue", "sessionLifetime", "loginLimits"])
        config.adminToken = try auth.child("adminToken").string()
        config.bcryptCost = try auth.child("bcryptCost").int() ?? config.bcryptCost
        guard (4...31).contains(config.bcryptCost) else { throw ConfigError(key: "auth.bcryptCost", problem: "must be 4 to 31") }
        config.bcryptThreads = try auth.child("bcryptThreads").int() ?? config.bcryptThreads
        guard (1...16).contains(config.bcryptThreads) else { throw ConfigError(key: "auth.bcryptThreads", problem: "must be 1 to 16") }
        config.bcryptQueue = try auth.child("bcryptQueue").int() ?? config.bcryptQueue
        guard (0...1000).contains(config.bcryptQueue) else { throw ConfigError(key: "auth.bcryptQueue", problem: "must be 0 to 1000") }
        config.sessionLifetime = try auth.child("sessionLifetime").duration() ?? config.sessionLifetime
        let limits = auth.child("loginLimits")
        try limits.checkKeys(["perAccount", "perAddress", "window", "addressHeader"])
        config.loginLimits.perAccount = try limits.child("perAccount").int() ?? config.loginLimits.perAccount
        config.loginLimits.perAddress = try limits.child("perAddress").int() ?? config.loginLimits.perAddress
        config.loginLimits.window = try limits.child("window").duration() ?? config.loginLimits.window
        config.loginLimits.addressHeader = try limits.child("addressHeader").string()
        guard config.loginLimits.perAccount >= 1, config.loginLimits.perAddress >= 1, config.loginLimits.window > 0 else {
            throw ConfigError(key: "auth.loginLimits", problem: "perAccount and perAddress must be at least 1 and window longer than 0")
        }
        // Each limit is a token bucket refilled over the window (`LoginThrottle.Limits`), at a rate a bucket can have.
        for (key, count) in [("perAccount", config.loginLimits.perAccount), ("perAddress", config.loginLimits.perAddress)]
        where !RateLimit.allowedRates.contains(Double(count) / config.loginLimits.window) {
            throw ConfigError(key: "auth.loginLimits.window", problem: "must let \(key) refill at least one attempt in 100000 s (and at most 100000 a second)")
        }

        let spam = node.child("spam")
        try spam.checkKeys(["threshold", "minimumTraining"])
        if let threshold = try spam.child("threshold").double() {
            guard threshold > 0.5, threshold <= 1 else { throw ConfigError(key: "spam.threshold", problem: "must be above 0.5 and at most 1") }
            config.spam.threshold = threshold
        }
        config.spam.minimumTraining = try spam.child("minimumTraining").int() ?? config.spam.minimumTraining

        let satisfaction = node.child("satisfaction")
        try satisfaction.checkKeys(["enabled", "question", "good", "bad"])
        config.satisfaction.enabled = try satisfaction.child("enabled").bool() ?? config.satisfaction.enabled
        config.satisfaction.question = try satisfaction.child("question").string() ?? config.satisfaction.question
        config.satisfaction.good = try satisfaction.child("good").string() ?? config.satisfaction.good
        config.satisfaction.bad = try satisfaction.child("bad").string() ?? config.satisfaction.bad

        let reports = node.child("reports")
        try reports.checkKeys(["summaryHour", "timeZone"])
        config.reports.summaryHour = try reports.child("summaryHour").int() ?? config.reports.summaryHour
        guard (0...23).contains(config.reports.summaryHour) else { throw ConfigError(key: "reports.summaryHour", problem: "must be an hour from 0 to 23") }
        if let name = try reports.child("timeZone").string() {
            guard let zone = TimeZone(identifier: name) else { throw ConfigError(key: "reports.timeZone", problem: "must be an IANA time zone name, e.g. Asia/Tokyo") }
            config.reports.timeZone = zone
        }

        let broadcast = node.child("broadcast")
        try broadcast.checkKeys(["chunkSize", "concurrency"])
        config.broadcast.chunkSize = try broadcast.child("chunkSize").int() ?? config.broadcast.chunkSize
        config.broadcast.concurrency = try broadcast.child("concurrency").int() ?? config.broadcast.concurrency
        guard (1...10_000).contains(config.broadcast.chunkSize), (1...1024).contains(config.broadcast.concurrency) else {
            throw ConfigError(key: "broadcast", problem: "chunkSize must be 1 to 10000 and concurrency 1 to 1024")
        }

        let notifier = node.child("notifier")
        try notifier.checkKeys(["smsAccount", "coalesceWindow", "waitingAfter", "vapidPrivateKey", "vapidSubject", "fcm", "apns"])
        let fcm = notifier.child("fcm")
        if fcm.isPresent {
            try fcm.checkKeys(["serviceAccountFile", "apiBaseURL"])
            let file = fcm.child("serviceAccountFile")
            guard let data = FileManager.default.contents(atPath: try file.requiredString()),
                let account = try? JSONDecoder().decode(FCMServiceAccount.self, from: data)
            else { throw ConfigError(key: file.path, problem: "must be a readable Firebase service account key file (JSON)") }
            config.notifier.fcm = account
            config.notifier.fcmAPIBaseURL = try fcm.child("apiBaseURL").url() ?? config.notifier.fcmAPIBaseURL
        }
        let apns = notifier.child("apns")
        if apns.isPresent {
            try apns.checkKeys(["teamId", "keyId", "privateKeyFile", "topic", "apiBaseURL", "caFile"])
            let file = apns.child("privateKeyFile")
            guard let key = FileManager.default.contents(atPath: try file.requiredString()) else {
                throw ConfigError(key: file.path, problem: "must be a readable .p8 key file")
            }
            config.notifier.apns = APNsSettings(
                teamId: try apns.child("teamId").requiredString(), keyId: try apns.child("keyId").requiredString(),
                privateKey: String(decoding: key, as: UTF8.self), topic: try apns.child("topic").requiredString(),
                apiBaseURL: try apns.child("apiBaseURL").url() ?? "https://api.push.apple.com")
            config.notifier.apnsCAFile = try apns.child("caFile").string()
        }
        config.notifier.vapidPrivateKey = try notifier.child("vapidPrivateKey").string()
        config.notifier.vapidSubject = try notifier.child("vapidSubject").string() ?? config.notifier.vapidSubject
        config.notifier.smsAccount = try notifier.child("smsAccount").string()
        config.notifier.coalesceWindow = try notifier.child("coalesceWindow").duration() ?? config.notifier.coalesceWindow
        config.notifier.waitingAfter = try notifier.child("waitingAfter").duration() ?? config.notifier.waitingAfter

        let email = node.child("email")
        if email.isPresent {
            try email.checkKeys(["url", "username", "password", "from", "caFile", "allowPlaintext", "connections", "rateLimit"])
            let url = try email.child("url").requiredString()
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw ConfigError(key: "email.url", problem: "must be smtp://host:587 (STARTTLS) or smtps://host:465")
            }
            let from = try email.child("from").requiredString()
            guard (try? EmailMessage.address(from)) != nil else { throw ConfigError(key: "email.from", problem: "must be an address, e.g. Support <support@example.com>") }
            let settings = SMTPSettings(
                url: url, username: try email.child("username").string(), password: try email.child("password").string(), from: from,
                caFile: try email.child("caFile").string(), allowPlaintext: try email.child("allowPlaintext").bool() ?? false,
                connections: try email.child("connections").int() ?? 4)
            if settings.allowPlaintext, settings.password != nil {
                throw ConfigError(key: "email.allowPlaintext", problem: "is only for a relay without login: a password never goes in the clear")
            }
            guard (1...64).contains(settings.connections) else { throw ConfigError(key: "email.connections", problem: "must be 1 to 64") }
            config.email = settings
            config.emailRateLimit = try parseRateLimit(email.child("rateLimit")) ?? config.emailRateLimit
        }

        let media = node.child("media")
        try media.checkKeys(["directory", "maxBytes", "maxUploadBytes", "uploadRetention"])
        config.media.directory = try media.child("directory").string()
        config.media.maxBytes = try media.child("maxBytes").int() ?? config.media.maxBytes
        config.media.maxUploadBytes = try media.child("maxUploadBytes").positiveInt() ?? config.media.maxUploadBytes
        config.media.uploadRetention = try media.child("uploadRetention").duration() ?? config.media.uploadRetention
        guard config.media.uploadRetention >= 86400 else {
            throw ConfigError(key: "media.uploadRetention", problem: "must be at least 1d (the platforms fetch the image after the reply is sent)")
        }

        let tickets = node.child("tickets")
        try tickets.checkKeys(["autoCloseAfter", "queueMessage"])
        config.autoCloseAfter = try tickets.child("autoCloseAfter").duration() ?? config.autoCloseAfter
        config.queueMessage = try tickets.child("queueMessage").string()

        let outbound = node.child("outbound")
        try outbound.checkKeys(["maxAttempts", "initialBackoff", "maxBackoff", "lease"])
        if let n = try outbound.child("maxAttempts").int() { config.retry.maxAttempts = n }
        if let d = try outbound.child("initialBackoff").duration() { config.retry.initialDelay = .milliseconds(Int64(d * 1000)) }
        if let d = try outbound.child("maxBackoff").duration() { config.retry.maxDelay = .milliseconds(Int64(d * 1000)) }
        if let d = try outbound.child("lease").duration() {
            guard d >= 1 else { throw ConfigError(key: "outbound.lease", problem: "must be at least 1s (a send must finish within it)") }
            config.outboundLease = d
        }

        config.egress = try parseEgress(node.child("egress"))

        var seen = Set<String>()
        for item in try node.child("channels").items() {
            if try item.child("kind").string() == "slack" {
                let console = try parseSlack(item)
                guard seen.insert("slack/\(console.id)").inserted else {
                    throw ConfigError(key: item.child("id").path, problem: "repeats slack/\(console.id); each account needs its own id")
                }
                config.consoles.append(console)
                continue
            }
            let channel = try parseChannel(item, publicBaseURL: config.server.publicBaseURL)
            guard seen.insert(channel.account.key).inserted else {
                throw ConfigError(key: item.child("id").path, problem: "repeats \(channel.account.key); each account needs its own id")
            }
            config.channels.append(channel)
        }

        if let host = environment["BRIDGE_HOST"] { config.server.host = host }
        if let port = environment["BRIDGE_PORT"] {
            guard let p = Int(port) else { throw ConfigError(key: "BRIDGE_PORT", problem: "must be a whole number") }
            config.server.port = p
        }
        if let url = environment["BRIDGE_DATABASE_URL"] { config.database = try DatabaseURL.parse(url, key: "BRIDGE_DATABASE_URL") }
        if let token = environment["BRIDGE_ADMIN_TOKEN"] { config.adminToken = token }
        if let key = environment["BRIDGE_SECRETS_KEY"], !key.isEmpty {
            guard SecretBox(base64Key: key) != nil else {
                throw ConfigError(key: "BRIDGE_SECRETS_KEY", problem: "must be 32 bytes in base64 (make one with: openssl rand -base64 32)")
            }
            config.secretsKey = key
        }
        if let token = config.adminToken {
            try AdminToken.check(token, key: environment["BRIDGE_ADMIN_TOKEN"] != nil ? "auth.adminToken (BRIDGE_ADMIN_TOKEN)" : "auth.adminToken")
        }
        if let sms = config.notifier.smsAccount, !seen.contains("sms/\(sms)") {
            throw ConfigError(key: "notifier.smsAccount", problem: "names sms/\(sms), which is not among the channels")
        }
        return config
    }

    /// One channel account from its settings: a `channels` item of `bridge.yaml`, or an account added
    /// from the console (`ConsoleChannelAccounts`), so both are checked by the same rules.
    static func parseChannel(_ item: ConfigNode, publicBaseURL: String?) throws -> ChannelConfig {
        let kindText = try item.child("kind").requiredString()
        guard let kind = ChannelKind(rawValue: kindText) else {
            throw ConfigError(
                key: item.child("kind").path,
                problem: "is \"\(kindText)\"; supported kinds are \((ChannelKind.allCases.map(\.rawValue) + ["slack"]).joined(separator: ", "))")
        }
        let id = try item.child("id").requiredString()
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigError(key: item.child("id").path, problem: "may hold only letters, digits, - and _")
        }
        let apiBaseURL = try item.child("apiBaseURL").url()
        let rateLimit = try parseRateLimit(item.child("rateLimit"))
        switch kind {
        case .line:
            try item.checkKeys(["kind", "id", "channelSecret", "accessToken", "apiBaseURL", "rateLimit"])
            return .line(LINEConfiguration(
                id: id, channelSecret: try item.child("channelSecret").requiredString(),
                accessToken: try item.child("accessToken").requiredString(), apiBaseURL: apiBaseURL, rateLimit: rateLimit))
        case .whatsapp:
            try item.checkKeys(["kind", "id", "appSecret", "verifyToken", "accessToken", "phoneNumberId", "businessAccountId", "apiBaseURL", "apiVersion", "rateLimit"])
            let businessAccountId = try item.child("businessAccountId").string()
            if let businessAccountId, businessAccountId.isEmpty || !businessAccountId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                throw ConfigError(key: item.child("businessAccountId").path, problem: "must be the WhatsApp Business Account's id (digits)")
            }
            return .whatsapp(WhatsAppConfiguration(
                id: id, appSecret: try item.child("appSecret").requiredString(), verifyToken: try item.child("verifyToken").requiredString(),
                accessToken: try item.child("accessToken").requiredString(), phoneNumberId: try item.child("phoneNumberId").requiredString(),
                apiBaseURL: apiBaseURL, apiVersion: try item.child("apiVersion").string() ?? "v21.0", rateLimit: rateLimit,
                businessAccountId: businessAccountId))
        case .messenger, .instagram:
            try item.checkKeys(["kind", "id", "appSecret", "verifyToken", "pageAccessToken", "pageId", "apiBaseURL", "apiVersion", "rateLimit"])
            return .messenger(MessengerConfiguration(
                kind: kind, id: id, appSecret: try item.child("appSecret").requiredString(),
                verifyToken: try item.child("verifyToken").requiredString(),
                pageAccessToken: try item.child("pageAccessToken").requiredString(), pageId: try item.child("pageId").requiredString(),
                apiBaseURL: apiBaseURL, apiVersion: try item.child("apiVersion").string() ?? "v21.0", rateLimit: rateLimit))
        case .sms:
            try item.checkKeys(["kind", "id", "accountSid", "authToken", "from", "apiBaseURL", "rateLimit"])
            return .sms(SMSConfiguration(
                id: id, accountSid: try item.child("accountSid").requiredString(), authToken: try item.child("authToken").requiredString(),
                from: try item.child("from").requiredString(), apiBaseURL: apiBaseURL,
                statusCallbackURL: publicBaseURL.map { "\($0)/webhooks/sms/\(id)" }, rateLimit: rateLimit))
        case .wechat:
            try item.checkKeys(["kind", "id", "appId", "appSecret", "token", "encodingAESKey", "apiBaseURL", "rateLimit"])
            let key = try item.child("encodingAESKey").string()
            if let key, key.count != 43 || Data(base64Encoded: key + "=")?.count != 32 {
                throw ConfigError(key: item.child("encodingAESKey").path, problem: "must be the 43-character EncodingAESKey from the WeChat console")
            }
            return .wechat(WeChatConfiguration(
                id: id, appId: try item.child("appId").requiredString(), appSecret: try item.child("appSecret").requiredString(),
                token: try item.child("token").requiredString(), encodingAESKey: key, apiBaseURL: apiBaseURL, rateLimit: rateLimit))
        case .webchat:
            return .webchat(try parseWebchat(item, id: id, rateLimit: rateLimit))
        case .email:
            return .email(try parseEmail(item, id: id, rateLimit: rateLimit))
        }
    }

    /// `kind: email`: the support address, its display name, and the mailbox read by IMAP.
    private static func parseEmail(_ item: ConfigNode, id: String, rateLimit: RateLimit?) throws -> EmailConfiguration {
        try item.checkKeys(["kind", "id", "address", "name", "imap", "rateLimit"])
        let address = try item.child("address").requiredString()
        guard TextRules.isEmail(address) else { throw ConfigError(key: item.child("address").path, problem: "must be an e-mail address") }
        let imap = item.child("imap")
        guard imap.isPresent else { throw ConfigError(key: imap.path, problem: "is required: the mailbox the account reads") }
        try imap.checkKeys(["url", "username", "password", "mailbox", "caFile", "allowPlaintext", "pollInterval", "markSeen"])
        let url = try imap.child("url").requiredString()
        guard let scheme = URLComponents(string: url)?.scheme?.lowercased(), ["imap", "imaps"].contains(scheme), URLComponents(string: url)?.host?.isEmpty == false else {
            throw ConfigError(key: imap.child("url").path, problem: "must be imaps://host:port or imap://host:port")
        }
        let poll = try imap.child("pollInterval").duration() ?? 60
        guard poll >= 1 else { throw ConfigError(key: imap.child("pollInterval").path, problem: "must be at least 1s") }
        return EmailConfiguration(
            id: id, address: address, name: try item.child("name").string(),
            imap: EmailConfiguration.IMAP(
                url: url, username: try imap.child("username").requiredString(), password: try imap.child("password").requiredString(),
                mailbox: try imap.child("mailbox").string() ?? "INBOX", caFile: try imap.child("caFile").string(),
                allowPlaintext: try imap.child("allowPlaintext").bool() ?? false, pollInterval: .milliseconds(Int64(poll * 1000)),
                markSeen: try imap.child("markSeen").bool() ?? true),
            rateLimit: rateLimit)
    }

    private static func parseSlack(_ item: ConfigNode) throws -> SlackConfiguration {
        try item.checkKeys(["kind", "id", "signingSecret", "botToken", "channel", "apiBaseURL", "agents", "rateLimit"])
        let agentsNode = item.child("agents")
        var agents: [String: String] = [:]
        if agentsNode.isPresent {
            guard let map = agentsNode.value as? [String: Any] else { throw ConfigError(key: agentsNode.path, problem: "must map Slack user ids to agent names") }
            for key in map.keys { agents[key] = try agentsNode.child(key).requiredString() }
        }
        return SlackConfiguration(
            id: try item.child("id").requiredString(), signingSecret: try item.child("signingSecret").requiredString(),
            botToken: try item.child("botToken").requiredString(), channel: try item.child("channel").requiredString(),
            apiBaseURL: try item.child("apiBaseURL").url(), agents: agents, rateLimit: try parseRateLimit(item.child("rateLimit")))
    }

    private static func parseEgress(_ node: ConfigNode) throws -> EgressPolicy {
        try node.checkKeys(["allow", "timeout", "readIdleTimeout"])
        var egress = EgressPolicy()
        for item in try node.child("allow").items() {
            let text = try item.requiredString()
            guard let entry = EgressAllowEntry(text) else {
                throw ConfigError(
                    key: item.path, problem: "must be a host name (*.example.com), an address or a block (10.0.0.0/8), with an optional :port; got \"\(text)\"")
            }
            egress.allow.append(entry)
        }
        for (key, keyPath) in [("timeout", \EgressPolicy.timeout), ("readIdleTimeout", \EgressPolicy.readIdleTimeout)] {
            guard let seconds = try node.child(key).duration() else { continue }
            guard seconds > 0, seconds <= 3600 else { throw ConfigError(key: node.child(key).path, problem: "must be more than 0 and at most 1h") }
            egress[keyPath: keyPath] = .milliseconds(Int64(seconds * 1000))
        }
        return egress
    }

    private static func parseRateLimit(_ node: ConfigNode) throws -> RateLimit? {
        guard node.isPresent else { return nil }
        try node.checkKeys(["perSecond", "burst"])
        guard let perSecond = try node.child("perSecond").double() else { throw ConfigError(key: node.child("perSecond").path, problem: "is required") }
        guard RateLimit.allowedRates.contains(perSecond) else {
            throw ConfigError(key: node.child("perSecond").path, problem: "must be from 0.00001 to 100000, got \(perSecond)")
        }
        if let burst = try node.child("burst").int(), !(1...1_000_000).contains(burst) {
            throw ConfigError(key: node.child("burst").path, problem: "must be from 1 to 1000000, got \(burst)")
        }
        return RateLimit(perSecond: perSecond, burst: try node.child("burst").int())
    }
}
