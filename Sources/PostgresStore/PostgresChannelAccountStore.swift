import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `ChannelAccountStore` on PostgreSQL, for several bridge processes on one database: an account
/// and the version move in one transaction, so a process that reads the new version reads the new
/// accounts; counts are upserts that add, so two processes counting at once lose nothing.
public struct PostgresChannelAccountStore: ChannelAccountStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    private typealias Columns = (String, String, String, String, String, Int, Int64, Int64)
    private static let select = "SELECT kind, account_id, settings, sealed_secrets, secret_hints, enabled, created_at, updated_at FROM channel_accounts"

    public func accounts() async throws -> [StoredChannelAccount] {
        try await client.query(PostgresQuery(unsafeSQL: Self.select + " ORDER BY kind COLLATE \"C\", account_id COLLATE \"C\""), logger: logger)
            .decode(Columns.self).all().map(Self.account)
    }

    public func account(kind: String, id: String) async throws -> StoredChannelAccount? {
        try await client.query("""
            SELECT kind, account_id, settings, sealed_secrets, secret_hints, enabled, created_at, updated_at FROM channel_accounts
            WHERE kind = \(kind) AND account_id = \(id)
            """, logger: logger).decode(Columns.self).all().first.map(Self.account)
    }

    public func add(_ account: StoredChannelAccount) async throws {
        let logger = logger
        let settings = ChannelAccountColumns.encode(account.settings), hints = ChannelAccountColumns.encode(account.secretHints)
        let enabled = account.enabled ? 1 : 0
        try await client.transaction(logger: logger) { connection in
            let inserted = try await connection.query("""
                INSERT INTO channel_accounts (kind, account_id, settings, sealed_secrets, secret_hints, enabled, created_at, updated_at)
                VALUES (\(account.kind), \(account.id), \(settings), \(account.sealedSecrets), \(hints), \(enabled), \(account.createdAt.ms), \(account.updatedAt.ms))
                ON CONFLICT (kind, account_id) DO NOTHING RETURNING 1
                """, logger: logger).decode(Int.self).all()
            guard !inserted.isEmpty else { throw InboxError.channelAccountExists(account.key) }
            try await connection.query("UPDATE channel_accounts_version SET version = version + 1", logger: logger)
        }
    }

    public func update(_ account: StoredChannelAccount, replacing old: StoredChannelAccount) async throws -> Bool {
        let logger = logger
        let settings = ChannelAccountColumns.encode(account.settings), hints = ChannelAccountColumns.encode(account.secretHints)
        let enabled = account.enabled ? 1 : 0
        let oldSettings = ChannelAccountColumns.encode(old.settings), oldHints = ChannelAccountColumns.encode(old.secretHints)
        let oldEnabled = old.enabled ? 1 : 0
        return try await client.transaction(logger: logger) { connection in
            let updated = try await connection.query("""
                UPDATE channel_accounts SET settings = \(settings), sealed_secrets = \(account.sealedSecrets), secret_hints = \(hints),
                    enabled = \(enabled), updated_at = \(account.updatedAt.ms)
                WHERE kind = \(account.kind) AND account_id = \(account.id)
                    AND settings = \(oldSettings) AND sealed_secrets = \(old.sealedSecrets) AND secret_hints = \(oldHints)
                    AND enabled = \(oldEnabled) AND updated_at = \(old.updatedAt.ms)
                RETURNING 1
                """, logger: logger).decode(Int.self).all()
            guard !updated.isEmpty else { return false }
            try await connection.query("UPDATE channel_accounts_version SET version = version + 1", logger: logger)
            return true
        }
    }

    public func version() async throws -> Int64 {
        try await client.query("SELECT version FROM channel_accounts_version", logger: logger).decode(Int64.self).all().first ?? 0
    }

    public func recordWebhook(account: String, at: Date) async throws {
        try await client.query("""
            INSERT INTO channel_activity (account, last_webhook_at) VALUES (\(account), \(at.ms))
            ON CONFLICT (account) DO UPDATE SET last_webhook_at = greatest(coalesce(channel_activity.last_webhook_at, 0), excluded.last_webhook_at)
            """, logger: logger)
    }

    public func recordRefusal(account: String, at: Date, count: Int) async throws {
        let minute = ChannelAccountColumns.minute(at)
        let count = Int64(count)
        try await client.query("""
            INSERT INTO channel_refusals (account, minute, count) VALUES (\(account), \(minute), \(count))
            ON CONFLICT (account, minute) DO UPDATE SET count = channel_refusals.count + excluded.count
            """, logger: logger)
        // Older minutes are never read again.
        try await client.query("DELETE FROM channel_refusals WHERE account = \(account) AND minute < \(minute - 120)", logger: logger)
    }

    public func recordSendError(account: String, message: String, at: Date) async throws {
        try await client.query("""
            INSERT INTO channel_activity (account, last_send_error, last_send_error_at) VALUES (\(account), \(message), \(at.ms))
            ON CONFLICT (account) DO UPDATE SET last_send_error = excluded.last_send_error, last_send_error_at = excluded.last_send_error_at
            WHERE coalesce(channel_activity.last_send_error_at, 0) <= excluded.last_send_error_at
            """, logger: logger)
    }

    public func activity(accounts: [String], now: Date) async throws -> [String: ChannelAccountActivity] {
        let since = ChannelAccountColumns.firstMinuteOfHour(before: now)
        var result: [String: ChannelAccountActivity] = [:]
        for account in accounts {
            let row = try await client.query(
                "SELECT last_webhook_at, last_send_error, last_send_error_at FROM channel_activity WHERE account = \(account)", logger: logger
            ).decode((Int64?, String?, Int64?).self).all().first
            let refused = try await client.query(
                "SELECT coalesce(sum(count), 0)::BIGINT FROM channel_refusals WHERE account = \(account) AND minute >= \(since)", logger: logger
            ).decode(Int64.self).all().first ?? 0
            let depth = try await client.query("SELECT count(*) FROM outbox WHERE account = \(account)", logger: logger)
                .decode(Int64.self).all().first ?? 0
            result[account] = ChannelAccountActivity(
                lastWebhookAt: row?.0.map(Date.init(ms:)), refusedLastHour: Int(refused), queueDepth: Int(depth),
                lastSendError: row?.1, lastSendErrorAt: row?.2.map(Date.init(ms:)))
        }
        return result
    }

    private static func account(_ c: Columns) -> StoredChannelAccount {
        StoredChannelAccount(
            kind: c.0, id: c.1, settings: ChannelAccountColumns.decode(c.2), sealedSecrets: c.3, secretHints: ChannelAccountColumns.decode(c.4),
            enabled: c.5 != 0, createdAt: Date(ms: c.6), updatedAt: Date(ms: c.7))
    }
}
