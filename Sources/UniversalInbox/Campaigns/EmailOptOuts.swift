import Foundation
import GRDB

/// An address that gets no campaign e-mail: it used the one-click unsubscribe link of a campaign
/// mail (RFC 8058), or an owner or admin put it on the list. Addresses are kept in lower case, so
/// `Ann@Example.com` and `ann@example.com` are one entry.
public struct EmailOptOut: Sendable, Equatable, Codable {
    public var address: String
    /// `unsubscribe_link` or `console` (added through the API).
    public var source: String
    /// Who added it through the API (their label); nil for the link.
    public var createdBy: String?
    public var createdAt: Date

    public init(address: String, source: String, createdBy: String?, createdAt: Date) {
        self.address = address
        self.source = source
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    public static let linkSource = "unsubscribe_link"
    public static let consoleSource = "console"
}

/// The e-mail opt-out list and the key unsubscribe links are sealed with. `CampaignStore`
/// refines it, so each database's campaign store keeps it (contract:
/// Tests/StoreTests/Contract/EmailOptOutContractTests.swift). Addresses come in lower case.
public protocol EmailOptOutStore: Sendable {
    /// Adds `address`; false when it was on the list already (the first entry is kept as it was).
    func addOptOut(_ entry: EmailOptOut) async throws -> Bool
    /// Takes `address` off the list; false when it was not on it.
    func removeOptOut(address: String) async throws -> Bool
    /// The entry for `address`, if any.
    func optOut(address: String) async throws -> EmailOptOut?
    /// Entries in address order after `after` (exclusive), at most `limit`.
    func optOuts(after: String?, limit: Int) async throws -> [EmailOptOut]
    /// The key unsubscribe links are sealed with: made from `candidate` the first time (whoever
    /// stores one first wins, so processes sharing the database agree), the stored one after.
    func unsubscribeKey(candidate: Data) async throws -> Data
}

extension Inbox {
    /// The skip reason of a campaign recipient whose e-mail address is on the opt-out list.
    public static let unsubscribedReason = "unsubscribed"

    /// The condition, in the audience statement both databases run (`c` the contact, `i` the
    /// identity picked, `e` the e-mail fallback), under which a recipient goes by e-mail to an
    /// address on the opt-out list; `lowered` is the contact's address as the database lowers it
    /// to the list's key (`optOutKey`).
    public static func optedOutCondition(lowered: String) -> String {
        "coalesce(i.channel, e.channel) = 'email' AND EXISTS (SELECT 1 FROM email_opt_outs o WHERE o.address = \(lowered))"
    }

    /// `c.email` lowered as `optOutKey` lowers it: SQLite's `lower` changes only ASCII letters, and
    /// so does PostgreSQL's under the C collation (under the database's own it would follow its
    /// locale: `Élodie@…` would miss the list's `Élodie@…`).
    public static let sqliteLoweredEmail = "lower(c.email)"
    public static let postgresLoweredEmail = #"lower(c.email COLLATE "C")"#

    /// How the list keeps an address: trimmed, its ASCII letters in lower case (what both
    /// databases' statements do to a contact's address to compare it), other letters as they are.
    public static func optOutKey(_ address: String) -> String {
        String(String.UnicodeScalarView(address.trimmingCharacters(in: .whitespaces).unicodeScalars.map { scalar in
            ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
        }))
    }

    /// `address` as the list keeps it (`optOutKey`), or `invalid_email` (400) when it is not an
    /// e-mail address.
    public static func optOutAddress(_ address: String) throws -> String {
        let trimmed = address.trimmingCharacters(in: .whitespaces)
        guard TextRules.isEmail(trimmed) else {
            throw InboxError.invalid(code: "invalid_email", message: "\(address.debugDescription) is not an e-mail address")
        }
        return optOutKey(trimmed)
    }

    /// Puts `address` on the opt-out list (an owner or admin, or the unsubscribe link); true when
    /// it is new. Idempotent: a second unsubscribe changes nothing. A link's address is the one the
    /// mail went to, sealed by the bridge: kept as it is, not judged again (an address the sender
    /// took but `TextRules` would not must still be able to unsubscribe).
    public func addEmailOptOut(_ address: String, source: String, by actor: String?) async throws -> Bool {
        let key = source == EmailOptOut.linkSource ? Self.optOutKey(address) : try Self.optOutAddress(address)
        let entry = EmailOptOut(address: key, source: source, createdBy: actor, createdAt: clock())
        return try await stores.campaignStore.addOptOut(entry)
    }

    /// Takes `address` off the list; `notFound` when it is not on it.
    public func removeEmailOptOut(_ address: String) async throws {
        guard try await stores.campaignStore.removeOptOut(address: try Self.optOutAddress(address)) else {
            throw InboxError.notFound("e-mail opt-out \(address)")
        }
    }

    public func emailOptOut(_ address: String) async throws -> EmailOptOut? {
        try await stores.campaignStore.optOut(address: try Self.optOutAddress(address))
    }

    public func emailOptOuts(after: String?, limit: Int) async throws -> [EmailOptOut] {
        try await stores.campaignStore.optOuts(after: after.map(Self.optOutKey), limit: limit)
    }

    /// The 32-byte key of unsubscribe links, made once per database.
    public func unsubscribeKey() async throws -> Data {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        return try await stores.campaignStore.unsubscribeKey(candidate: Data(bytes))
    }
}

extension Schema {
    /// `v33-email-opt-outs`: the e-mail opt-out list, and the one key unsubscribe links are sealed with.
    static let emailOptOuts = """
        CREATE TABLE email_opt_outs (
            address TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            created_by TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE unsubscribe_keys (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            key BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );
        """
}

extension SQLiteCampaignStore {
    public func addOptOut(_ entry: EmailOptOut) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO email_opt_outs (address, source, created_by, created_at) VALUES (?, ?, ?, ?)",
                arguments: [entry.address, entry.source, entry.createdBy, entry.createdAt.ms])
            return db.changesCount > 0
        }
    }

    public func removeOptOut(address: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM email_opt_outs WHERE address = ?", arguments: [address])
            return db.changesCount > 0
        }
    }

    public func optOut(address: String) async throws -> EmailOptOut? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM email_opt_outs WHERE address = ?", arguments: [address]).map(Self.optOut)
        }
    }

    public func optOuts(after: String?, limit: Int) async throws -> [EmailOptOut] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM email_opt_outs WHERE ? IS NULL OR address > ? ORDER BY address LIMIT ?", arguments: [after, after, limit]
            ).map(Self.optOut)
        }
    }

    public func unsubscribeKey(candidate: Data) async throws -> Data {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO unsubscribe_keys (id, key, created_at) VALUES (1, ?, ?)", arguments: [candidate, Date().ms])
            return try Data.fetchOne(db, sql: "SELECT key FROM unsubscribe_keys WHERE id = 1") ?? candidate
        }
    }

    static func optOut(_ row: Row) -> EmailOptOut {
        EmailOptOut(address: row["address"], source: row["source"], createdBy: row["created_by"], createdAt: Date(ms: row["created_at"]))
    }
}
