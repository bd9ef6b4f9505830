import ChannelKit
import Foundation
import UniversalInbox

/// One setting of a channel account as the console's form asks for it: the names are those of a
/// `channels` item in `bridge.yaml`, so an account added on the page is read by the same parser.
struct ChannelAccountField: Sendable, Encodable, Equatable {
    var name: String
    /// Encrypted at rest and never shown back (only "set" and its last characters).
    var secret: Bool
    var required: Bool
}

/// Channel accounts added from the console: what each kind asks for, how a stored account becomes
/// a `ChannelConfig` (its secrets opened with `SecretBox`, then parsed by `ConfigLoader.parseChannel`
/// exactly as a `bridge.yaml` item is), and how what the owner typed is checked and sealed.
struct ConsoleChannelAccounts: Sendable {
    let store: any ChannelAccountStore
    /// nil: no key is configured, and accounts with secrets cannot be added.
    let box: SecretBox?
    let publicBaseURL: String?

    static let fields: [ChannelKind: [ChannelAccountField]] = {
        func s(_ name: String, required: Bool = true) -> ChannelAccountField { ChannelAccountField(name: name, secret: true, required: required) }
        func p(_ name: String, required: Bool = true) -> ChannelAccountField { ChannelAccountField(name: name, secret: false, required: required) }
        let meta = [s("appSecret"), s("verifyToken"), s("pageAccessToken"), p("pageId"), p("apiBaseURL", required: false), p("apiVersion", required: false)]
        return [
            .line: [s("channelSecret"), s("accessToken"), p("apiBaseURL", required: false)],
            .whatsapp: [
                s("appSecret"), s("verifyToken"), s("accessToken"), p("phoneNumberId"), p("businessAccountId", required: false),
                p("apiBaseURL", required: false), p("apiVersion", required: false),
            ],
            .messenger: meta,
            .instagram: meta,
            .sms: [p("accountSid"), s("authToken"), p("from"), p("apiBaseURL", required: false)],
            .wechat: [p("appId"), s("appSecret"), s("token"), s("encodingAESKey", required: false), p("apiBaseURL", required: false)],
            .webchat: [p("name"), p("colour", required: false), p("allowedOrigins"), s("visitorSecret")],
        ]
    }()

    static func isSecret(_ name: String, kind: ChannelKind) -> Bool { fields[kind]?.first { $0.name == name }?.secret ?? false }

    /// What the page may show of a secret: its last 4 characters when it is long enough that they
    /// give little away (12 or more), else nothing.
    static func hint(_ secret: String) -> String { secret.count >= 12 ? String(secret.suffix(4)) : "" }

    /// The account's settings read as a `bridge.yaml` item would be; a problem is a `ConfigError`
    /// naming the field.
    func config(kind: ChannelKind, id: String, settings: [String: String], secrets: [String: String]) throws -> ChannelConfig {
        var item: [String: Any] = ["kind": kind.rawValue, "id": id]
        for (name, value) in settings.merging(secrets, uniquingKeysWith: { $1 }) {
            // The page's text is taken as written: no ${NAME} from the bridge's environment.
            guard !value.contains("${") else { throw ConfigError(key: name, problem: "may not contain ${") }
            item[name] = value
        }
        return try ConfigLoader.parseChannel(ConfigNode(value: item, path: "", environment: [:]), publicBaseURL: publicBaseURL)
    }

    /// A stored account's configuration, its secrets opened with the key.
    func config(of stored: StoredChannelAccount) throws -> ChannelConfig {
        guard let kind = ChannelKind(rawValue: stored.kind) else { throw ConfigError(key: "kind", problem: "is \(stored.kind), not a channel kind") }
        var secrets: [String: String] = [:]
        if stored.sealedSecrets != "" {
            guard let box else { throw SecretBoxError.noKey }
            secrets = try box.open(stored.sealedSecrets, account: stored.key)
        }
        return try config(kind: kind, id: stored.id, settings: stored.settings, secrets: secrets)
    }
}
