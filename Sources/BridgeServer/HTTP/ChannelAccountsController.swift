import ChannelKit
import Foundation
import Hummingbird
import Logging
import UniversalInbox

/// The console's Channels section (owners and admins): every account in force with the URL its
/// platform calls, which secrets are set (never their values: at most the last 4 characters), its
/// traffic as counted in the database; adding, editing and disabling console accounts; and a test
/// message through the account's adapter and token bucket. `bridge.yaml` accounts are listed
/// read-only. A change is stored, then this process reloads at once; the others on their next
/// webhook or background refresh (`ChannelRegistry.refresh`).
struct ChannelAccountsController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    let store: any ChannelAccountStore
    let transport: any HTTPTransport
    let publicBaseURL: String?
    let clock: @Sendable () -> Date
    let logger: Logger

    struct Secret: Encodable {
        var name: String
        var set: Bool
        /// The last 4 characters of a long secret, else nil.
        var last4: String?
    }

    struct Activity: Encodable {
        var lastWebhookAt: Date?
        var refusedLastHour: Int
        var queueDepth: Int
        var lastSendError: String?
        var lastSendErrorAt: Date?
    }

    struct Item: Encodable {
        var key: String
        var kind: String
        var id: String
        /// `file` (bridge.yaml, read-only) or `console`.
        var source: String
        var enabled: Bool
        /// The path the platform calls; `webhookURL` is it on `server.publicBaseURL`, nil when that
        /// is not set (the page puts it on the address it was reached at).
        var webhookPath: String
        var webhookURL: String?
        var settings: [String: String]
        var secrets: [Secret]
        /// Why an enabled console account is not in force (a key that does not open its secrets).
        var problem: String?
        var activity: Activity
        /// The department its new tickets open in (People), nil for none.
        var departmentId: Int64?
    }

    struct Kind: Encodable {
        var kind: String
        var fields: [ChannelAccountField]
    }

    struct Listing: Encodable {
        var items: [Item]
        var kinds: [Kind]
        /// Whether a key is configured, without which accounts with secrets cannot be added.
        var secretsKeyConfigured: Bool
    }

    struct AddBody: Decodable {
        var kind: String
        var id: String
        var enabled: Bool?
        var fields: [String: String]
    }

    struct EditBody: Decodable {
        var enabled: Bool?
        /// Settings to change; a secret left out or empty keeps its value, another setting empty is removed.
        var fields: [String: String]?
    }

    /// `{"departmentId": N}` or `{"departmentId": null}`: the key is required, so an empty body
    /// does not clear a route by accident.
    struct RouteBody: Decodable, NullableFields {
        static var nullableFields: Set<String> { ["departmentId"] }
        var departmentId: Int64?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            departmentId = try container.decode(Int64?.self, forKey: .departmentId)
        }
        enum Keys: String, CodingKey { case departmentId }
    }

    struct TestBody: Decodable {
        var recipient: String
        var text: String?
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("channel-accounts") { _, context in
            _ = try context.requireSettingsManager()
            try await registry.refresh()
            return JSONResponse.make(try await listing())
        }
        group.post("channel-accounts") { request, context in
            _ = try context.requireSettingsManager()
            let body = try await request.decode(AddBody.self, maxBytes: 64 << 10)
            let item = try await add(body)
            context.logger.info("channel account added", metadata: ["channel.account": "\(item.key)"])
            return JSONResponse.make(item, status: .created)
        }
        group.patch("channel-accounts/:kind/:id") { request, context in
            _ = try context.requireSettingsManager()
            let (kind, id) = try account(context)
            let body = try await request.decode(EditBody.self, maxBytes: 64 << 10)
            let item = try await edit(kind: kind, id: id, body)
            context.logger.info("channel account changed", metadata: ["channel.account": "\(item.key)", "enabled": "\(item.enabled)"])
            return JSONResponse.make(item)
        }
        group.put("channel-accounts/:kind/:id/department") { request, context in
            _ = try context.requireSettingsManager()
            let (kind, id) = try account(context)
            let body = try await request.decode(RouteBody.self, maxBytes: 4 << 10)
            let key = try await knownAccount(kind: kind, id: id)
            try await inbox.routeAccount(key, toDepartment: body.departmentId)
            context.logger.info("channel account routed", metadata: ["channel.account": "\(key)", "department.id": "\(body.departmentId.map(String.init) ?? "none")"])
            guard let item = try await listing().items.first(where: { $0.key == key }) else { throw APIError.notFound("channel account \(key)") }
            return JSONResponse.make(item)
        }
        group.post("channel-accounts/:kind/:id/test-message") { request, context in
            _ = try context.requireSettingsManager()
            let (kind, id) = try account(context)
            let body = try await request.decode(TestBody.self, maxBytes: 16 << 10)
            return JSONResponse.make(try await sendTest(kind: kind, id: id, body))
        }
    }

    private func account(_ context: BridgeRequestContext) throws -> (ChannelKind, String) {
        let kind = try parseEnum(context.parameters.get("kind") ?? "", as: ChannelKind.self, field: "kind")
        return (kind, context.parameters.get("id") ?? "")
    }

    /// The key of an account of `bridge.yaml` or one added from the console (disabled ones too), or 404.
    private func knownAccount(kind: ChannelKind, id: String) async throws -> String {
        let key = ChannelAccountRef(kind: kind, id: id).key
        if registry.fileChannels.contains(where: { $0.account.key == key }) { return key }
        guard try await store.account(kind: kind.rawValue, id: id) != nil else { throw APIError.notFound("channel account \(key)") }
        return key
    }

    private var console: ConsoleChannelAccounts {
        get throws {
            guard let console = registry.console else { throw APIError(status: .conflict, code: "console_accounts_off", message: "channel accounts are not kept in the database") }
            return console
        }
    }

    private func listing() async throws -> Listing {
        let stored = try await store.accounts()
        let fileKeys = Set(registry.fileChannels.map(\.account.key))
        var items: [Item] = registry.fileChannels.map { channel in
            let ref = channel.account
            let fields = ConsoleChannelAccounts.fields[ref.kind] ?? []
            return Item(
                key: ref.key, kind: ref.kind.rawValue, id: ref.id, source: "file", enabled: true, webhookPath: "/webhooks/\(ref.key)",
                webhookURL: publicBaseURL.map { "\($0)/webhooks/\(ref.key)" }, settings: [:],
                secrets: fields.filter(\.secret).map { Secret(name: $0.name, set: $0.required || channel.hasOptionalSecret($0.name), last4: nil) },
                problem: nil, activity: Activity(refusedLastHour: 0, queueDepth: 0))
        }
        for account in stored where !fileKeys.contains(account.key) {
            items.append(item(account))
        }
        let activity = try await store.activity(accounts: items.map(\.key), now: clock())
        let routes = Dictionary(try await inbox.departments().flatMap { department in department.accounts.map { ($0, department.id) } }) { first, _ in first }
        for index in items.indices {
            items[index].departmentId = routes[items[index].key]
            if let a = activity[items[index].key] {
                items[index].activity = Activity(
                    lastWebhookAt: a.lastWebhookAt, refusedLastHour: a.refusedLastHour, queueDepth: a.queueDepth, lastSendError: a.lastSendError,
                    lastSendErrorAt: a.lastSendErrorAt)
            }
        }
        let kinds = ChannelKind.allCases.map { Kind(kind: $0.rawValue, fields: ConsoleChannelAccounts.fields[$0] ?? []) }
        return Listing(items: items, kinds: kinds, secretsKeyConfigured: registry.console?.box != nil)
    }

    private func item(_ account: StoredChannelAccount) -> Item {
        let kind = ChannelKind(rawValue: account.kind)
        let fields = kind.flatMap { ConsoleChannelAccounts.fields[$0] } ?? []
        return Item(
            key: account.key, kind: account.kind, id: account.id, source: "console", enabled: account.enabled, webhookPath: "/webhooks/\(account.key)",
            webhookURL: publicBaseURL.map { "\($0)/webhooks/\(account.key)" }, settings: account.settings,
            secrets: fields.filter(\.secret).map { field in
                let hint = account.secretHints[field.name]
                return Secret(name: field.name, set: hint != nil, last4: hint.flatMap { $0.isEmpty ? nil : $0 })
            },
            problem: account.enabled ? registry.problem(for: account.key) : nil, activity: Activity(refusedLastHour: 0, queueDepth: 0))
    }

    /// Splits what the owner typed into settings and secrets, checks it as `bridge.yaml` would be
    /// checked, and seals the secrets; nothing is stored when any of it fails.
    private func prepare(kind: ChannelKind, id: String, fields: [String: String], keeping old: StoredChannelAccount?) throws -> StoredChannelAccount {
        let console = try console
        // What openapi.yaml states as the schema is a 400; what only the platform's rules say, 422.
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw APIError.badRequest("invalid_id", "id must be 1 to 64 letters, digits, - and _")
        }
        if let long = fields.first(where: { $0.value.count > 4096 }) {
            throw APIError.badRequest("invalid_field", "\(long.key) is longer than 4096 characters")
        }
        let known = ConsoleChannelAccounts.fields[kind] ?? []
        if let unknown = fields.keys.sorted().first(where: { name in !known.contains { $0.name == name } }) {
            throw APIError.unprocessable("unknown_field", "\(kind.rawValue) accounts have no setting \(unknown) (they have \(known.map(\.name).joined(separator: ", ")))")
        }
        var settings = old?.settings ?? [:]
        var secrets: [String: String] = [:]
        // Where the account's requests go (apiBaseURL, apiVersion) changing keeps no stored secret:
        // else an edit of the address alone would send the sealed tokens to a host of the editor's
        // choosing. Every secret is then entered again (the check below names a missing one).
        let redirected = Self.destinationFields.contains { name in
            fields[name].map { ($0.isEmpty ? nil : $0) != old?.settings[name] } ?? false
        }
        if let old, old.sealedSecrets != "", !redirected {
            guard let box = console.box else { throw Self.noKey }
            // Sealed with a key no longer configured: the owner enters every secret again (the
            // check below names a missing one).
            secrets = (try? box.open(old.sealedSecrets, account: old.key)) ?? [:]
        }
        for (name, value) in fields {
            if ConsoleChannelAccounts.isSecret(name, kind: kind) {
                if !value.isEmpty { secrets[name] = value }  // empty: keep the stored one
            } else if value.isEmpty {
                settings[name] = nil
            } else {
                settings[name] = value
            }
        }
        do {
            _ = try console.config(kind: kind, id: id, settings: settings, secrets: secrets)
        } catch let error as ConfigError {
            throw APIError.unprocessable("invalid_account", error.description)
        }
        var sealed = ""
        if !secrets.isEmpty {
            guard let box = console.box else { throw Self.noKey }
            sealed = try box.seal(secrets, account: "\(kind.rawValue)/\(id)")
        }
        let now = clock()
        return StoredChannelAccount(
            kind: kind.rawValue, id: id, settings: settings, sealedSecrets: sealed, secretHints: secrets.mapValues(ConsoleChannelAccounts.hint),
            enabled: old?.enabled ?? true, createdAt: old?.createdAt ?? now, updatedAt: now)
    }

    /// The settings that say where an account's API requests (and so its tokens) go.
    static let destinationFields: Set<String> = ["apiBaseURL", "apiVersion"]

    static let noKey = APIError(
        status: .conflict, code: "secrets_key_missing",
        message: "no key is configured to encrypt channel secrets: set BRIDGE_SECRETS_KEY to 32 random bytes in base64 (openssl rand -base64 32), or name a file holding one in data.secretsKeyFile, and restart the bridge")

    private func add(_ body: AddBody) async throws -> Item {
        let kind = try parseEnum(body.kind, as: ChannelKind.self, field: "kind")
        let key = "\(kind.rawValue)/\(body.id)"
        if registry.fileChannels.contains(where: { $0.account.key == key }) {
            throw APIError(status: .conflict, code: "account_in_config", message: "\(key) is configured in bridge.yaml; change it there")
        }
        var account = try prepare(kind: kind, id: body.id, fields: body.fields, keeping: nil)
        account.enabled = body.enabled ?? true
        try await store.add(account)
        try await registry.refresh()
        return item(account)
    }

    private func edit(kind: ChannelKind, id: String, _ body: EditBody) async throws -> Item {
        let key = "\(kind.rawValue)/\(id)"
        if registry.fileChannels.contains(where: { $0.account.key == key }) {
            throw APIError(status: .conflict, code: "account_in_config", message: "\(key) is configured in bridge.yaml; change it there")
        }
        // Read, merge, write if unchanged meanwhile; else merge again onto what the other edit
        // left (each field this edit does not name keeps the other's value).
        for _ in 0..<Self.editAttempts {
            guard let old = try await store.account(kind: kind.rawValue, id: id) else { throw APIError.notFound("channel account \(key) does not exist") }
            var account = old
            if let fields = body.fields, !fields.isEmpty {
                account = try prepare(kind: kind, id: id, fields: fields, keeping: old)
            } else {
                account.updatedAt = clock()
            }
            account.enabled = body.enabled ?? old.enabled
            if try await store.update(account, replacing: old) {
                try await registry.refresh()
                return item(account)
            }
        }
        throw APIError(status: .conflict, code: "edited_meanwhile", message: "\(key) kept changing while this edit was saved; load it again and retry")
    }

    /// How many times an edit is merged again onto another's before it gives up with a 409.
    static let editAttempts = 5

    struct TestResult: Encodable {
        var sent: Bool
        var platformMessageId: String?
    }

    /// A text to `recipient` through the account's adapter, after its token bucket (the bucket
    /// agents' replies and campaigns share), as a reply is sent; the platform's refusal is the answer.
    private func sendTest(kind: ChannelKind, id: String, _ body: TestBody) async throws -> TestResult {
        let recipient = body.recipient.trimmingCharacters(in: .whitespaces)
        guard !body.recipient.isEmpty, body.recipient.count <= 256 else {
            throw APIError.badRequest("invalid_recipient", "recipient must be the platform's user id (1 to 256 characters)")
        }
        guard !recipient.isEmpty else { throw APIError.unprocessable("invalid_recipient", "recipient must be the platform's user id, not blanks") }
        if let text = body.text, text.count > 1000 { throw APIError.badRequest("invalid_text", "text must be at most 1000 characters") }
        try await registry.refresh()
        let key = "\(kind.rawValue)/\(id)"
        guard let adapter = registry.adapter(kind: kind, id: id), let bucket = registry.bucket(for: key) else {
            throw APIError.notFound("channel account \(key) is not in force")
        }
        let text = body.text.flatMap { $0.isEmpty ? nil : $0 } ?? "Test message from the bridge"
        let message = OutboundMessage(id: UUID().uuidString, recipient: recipient, content: .text(text), context: ConversationContext(now: clock()))
        if let refusal = adapter.refusal(for: message) {
            throw APIError(status: .unprocessableContent, code: refusal.code, message: refusal.reason)
        }
        do {
            try await bucket.acquire()
            let receipt = try await adapter.send(message, transport: transport)
            return TestResult(sent: true, platformMessageId: receipt.platformMessageId)
        } catch {
            let failure = SendError.classify(error)
            try? await store.recordSendError(account: key, message: "\(failure.code): \(failure.reason)", at: clock())
            logger.warning("test message failed", metadata: ["channel.account": "\(key)", "error.code": "\(failure.code)"])
            throw APIError(status: .badGateway, code: "platform_error", message: "\(kind.rawValue) refused the test message: \(failure.code): \(failure.reason)")
        }
    }
}

extension ChannelConfig {
    /// Whether an optional secret of a `bridge.yaml` account is set (WeChat's EncodingAESKey).
    func hasOptionalSecret(_ name: String) -> Bool {
        if case .wechat(let c) = self, name == "encodingAESKey" { return c.encodingAESKey != nil }
        return false
    }
}
