import Foundation
import GRDB

/// A channel account added from the console, as stored: the settings that are not secret in the
/// clear, the secrets sealed by the caller (the store never sees them in the clear) with the last
/// characters of each kept as a hint, so the page can say "set, ends in 1a2b" without decrypting.
public struct StoredChannelAccount: Sendable, Equatable {
    public var kind: String
    public var id: String
    public var settings: [String: String]
    /// The secrets, encrypted (`SecretBox` in BridgeServer); opaque here.
    public var sealedSecrets: String
    /// Secret field name → its last characters (at most 4).
    public var secretHints: [String: String]
    public var enabled: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        kind: String, id: String, settings: [String: String], sealedSecrets: String, secretHints: [String: String], enabled: Bool,
        createdAt: Date, updatedAt: Date
    ) {
        self.kind = kind
        self.id = id
        self.settings = settings
        self.sealedSecrets = sealedSecrets
        self.secretHints = secretHints
        self.enabled = enabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// `kind/id`, the key every other table uses for an account.
    public var key: String { "\(kind)/\(id)" }
}

/// What the console shows about an account's traffic, worked out from the database so that every
/// process serving it counts: the last webhook that arrived, webhooks refused for a bad signature
/// in the last hour, replies waiting in the outbox and the last send error.
public struct ChannelAccountActivity: Sendable, Equatable {
    public var lastWebhookAt: Date?
    public var refusedLastHour: Int
    public var queueDepth: Int
    public var lastSendError: String?
    public var lastSendErrorAt: Date?

    public init(lastWebhookAt: Date? = nil, refusedLastHour: Int = 0, queueDepth: Int = 0, lastSendError: String? = nil, lastSendErrorAt: Date? = nil) {
        self.lastWebhookAt = lastWebhookAt
        self.refusedLastHour = refusedLastHour
        self.queueDepth = queueDepth
        self.lastSendError = lastSendError
        self.lastSendErrorAt = lastSendErrorAt
    }
}

/// Channel accounts added from the console and every account's activity. One implementation per
/// database (`SQLiteChannelAccountStore` below, `PostgresChannelAccountStore`), held to one contract
/// (Tests/StoreTests). Every change to the accounts moves `version` in the same transaction, so a
/// process compares one number to know whether its adapters are current.
public protocol ChannelAccountStore: Sendable {
    /// Every stored account, by kind then id.
    func accounts() async throws -> [StoredChannelAccount]
    /// One account, or nil.
    func account(kind: String, id: String) async throws -> StoredChannelAccount?
    /// Adds an account; one with the same kind and id is refused (`account_exists`) and nothing changes.
    func add(_ account: StoredChannelAccount) async throws
    /// Replaces an account's settings, secrets and state (not its `createdAt`) if it is still
    /// `old` as read (its settings, sealed secrets, hints, state and `updatedAt`); false, and
    /// nothing changes, when there is none or it changed meanwhile. An edit is a read, a merge and
    /// this write: without the check, two owners' edits at once would undo one another (a
    /// disable lost to a concurrent change of a setting would re-enable the account).
    func update(_ account: StoredChannelAccount, replacing old: StoredChannelAccount) async throws -> Bool
    /// A number that changes whenever an account is added or changed.
    func version() async throws -> Int64
    /// A webhook for `account` arrived at `at` (the latest time is kept).
    func recordWebhook(account: String, at: Date) async throws
    /// `count` webhooks for `account` were refused for their signature at `at` (counted per minute).
    func recordRefusal(account: String, at: Date, count: Int) async throws
    /// A send for `account` failed with `message` at `at` (the latest is kept).
    func recordSendError(account: String, message: String, at: Date) async throws
    /// Each of `accounts`' activity as of `now` (refusals in the hour before it).
    func activity(accounts: [String], now: Date) async throws -> [String: ChannelAccountActivity]
}

extension ChannelAccountStore {
    /// One webhook refused.
    public func recordRefusal(account: String, at: Date) async throws { try await recordRefusal(account: account, at: at, count: 1) }
}

extension InboxError {
    public static func channelAccountExists(_ key: String) -> InboxError {
        .conflict(code: "account_exists", message: "a channel account \(key) already exists")
    }
}

/// JSON for the settings and hints columns: sorted keys, so equal maps store equal text.
package enum ChannelAccountColumns {
    package static func encode(_ map: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(map), as: UTF8.self)) ?? "{}"
    }

    package static func decode(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    /// The minute a refusal is counted in, and the first minute still inside the hour before `now`.
    package static func minute(_ date: Date) -> Int64 { date.ms / 60_000 }
    package static func firstMinuteOfHour(before now: Date) -> Int64 { minute(now) - 59 }
}

/// `ChannelAccountStore` on SQLite.
public struct SQLiteChannelAccountStore: ChannelAccountStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func accounts() async throws -> [StoredChannelAccount] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM channel_accounts ORDER BY kind, account_id").map(Self.account)
        }
    }

    public func account(kind: String, id: String) async throws -> StoredChannelAccount? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM channel_accounts WHERE kind = ? AND account_id = ?", arguments: [kind, id]).map(Self.account)
        }
    }

    public func add(_ account: StoredChannelAccount) async throws {
        try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM channel_accounts WHERE kind = ? AND account_id = ?", arguments: [account.kind, account.id]) != nil {
                throw InboxError.channelAccountExists(account.key)
            }
            try db.execute(
                sql: """
                    INSERT INTO channel_accounts (kind, account_id, settings, sealed_secrets, secret_hints, enabled, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    account.kind, account.id, ChannelAccountColumns.encode(account.settings), account.sealedSecrets,
                    ChannelAccountColumns.encode(account.secretHints), account.enabled ? 1 : 0, account.createdAt.ms, account.updatedAt.ms,
                ])
            try db.execute(sql: "UPDATE channel_accounts_version SET version = version + 1")
        }
    }

    public func update(_ account: StoredChannelAccount, replacing old: StoredChannelAccount) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE channel_accounts SET settings = ?, sealed_secrets = ?, secret_hints = ?, enabled = ?, updated_at = ?
                    WHERE kind = ? AND account_id = ?
                        AND settings = ? AND sealed_secrets = ? AND secret_hints = ? AND enabled = ? AND updated_at = ?
                    """,
                arguments: [
                    ChannelAccountColumns.encode(account.settings), account.sealedSecrets, ChannelAccountColumns.encode(account.secretHints),
                    account.enabled ? 1 : 0, account.updatedAt.ms, account.kind, account.id,
                    ChannelAccountColumns.encode(old.settings), old.sealedSecrets, ChannelAccountColumns.encode(old.secretHints),
                    old.enabled ? 1 : 0, old.updatedAt.ms,
                ])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "UPDATE channel_accounts_version SET version = version + 1")
            return true
        }
    }

    public func version() async throws -> Int64 {
        try await database.pool.read { db in try Int64.fetchOne(db, sql: "SELECT version FROM channel_accounts_version") ?? 0 }
    }

    public func recordWebhook(account: String, at: Date) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO channel_activity (account, last_webhook_at) VALUES (?, ?)
                    ON CONFLICT (account) DO UPDATE SET last_webhook_at = max(coalesce(last_webhook_at, 0), excluded.last_webhook_at)
                    """,
                arguments: [account, at.ms])
        }
    }

    public func recordRefusal(account: String, at: Date, count: Int) async throws {
        let minute = ChannelAccountColumns.minute(at)
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO channel_refusals (account, minute, count) VALUES (?, ?, ?)
                    ON CONFLICT (account, minute) DO UPDATE SET count = count + excluded.count
                    """,
                arguments: [account, minute, count])
            // Older minutes are never read again.
            try db.execute(sql: "DELETE FROM channel_refusals WHERE account = ? AND minute < ?", arguments: [account, minute - 120])
        }
    }

    public func recordSendError(account: String, message: String, at: Date) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO channel_activity (account, last_send_error, last_send_error_at) VALUES (?, ?, ?)
                    ON CONFLICT (account) DO UPDATE SET last_send_error = excluded.last_send_error, last_send_error_at = excluded.last_send_error_at
                    WHERE coalesce(channel_activity.last_send_error_at, 0) <= excluded.last_send_error_at
                    """,
                arguments: [account, message, at.ms])
        }
    }

    public func activity(accounts: [String], now: Date) async throws -> [String: ChannelAccountActivity] {
        let since = ChannelAccountColumns.firstMinuteOfHour(before: now)
        return try await database.pool.read { db in
            var result: [String: ChannelAccountActivity] = [:]
            for account in accounts {
                let row = try Row.fetchOne(db, sql: "SELECT * FROM channel_activity WHERE account = ?", arguments: [account])
                let refused = try Int.fetchOne(
                    db, sql: "SELECT coalesce(sum(count), 0) FROM channel_refusals WHERE account = ? AND minute >= ?", arguments: [account, since]) ?? 0
                let depth = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE account = ?", arguments: [account]) ?? 0
                result[account] = ChannelAccountActivity(
                    lastWebhookAt: (row?["last_webhook_at"] as Int64?).map(Date.init(ms:)), refusedLastHour: refused, queueDepth: depth,
                    lastSendError: row?["last_send_error"], lastSendErrorAt: (row?["last_send_error_at"] as Int64?).map(Date.init(ms:)))
            }
            return result
        }
    }

    private static func account(_ row: Row) -> StoredChannelAccount {
        StoredChannelAccount(
            kind: row["kind"], id: row["account_id"], settings: ChannelAccountColumns.decode(row["settings"]), sealedSecrets: row["sealed_secrets"],
            secretHints: ChannelAccountColumns.decode(row["secret_hints"]), enabled: (row["enabled"] as Int) != 0,
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]))
    }
}
