import Foundation
import GRDB

/// Where agents' push targets are kept: browsers' Web Push subscriptions (`PushSubscription`) and
/// phones' FCM/APNs tokens (`PushDevice`). One implementation per database (`SQLitePushDeviceStore`
/// below, `PostgresPushDeviceStore` in PostgresStore), held to one contract (Tests/StoreTests). What
/// a valid endpoint, key or token is, and who may remove what, is the domain's (`Inbox.addPushDevice`...).
///
/// An endpoint or a device belongs to the agent who registered it first: registering one another
/// agent holds is refused (`endpoint_taken`, `device_taken`) in the same statement or transaction
/// that would write it, so two registrations at once cannot both win. Keys and tokens never appear
/// in the errors.
public protocol PushDeviceStore: Sendable {
    /// Adds a browser's subscription for `agentId`, or renews the keys of the agent's own at that
    /// endpoint. Returns its id; `endpoint_taken` if another agent holds the endpoint (nothing changes).
    func addSubscription(agentId: Int64, endpoint: String, p256dh: String, auth: String, now: Date) async throws -> Int64

    /// The agent's browser subscriptions, oldest first.
    func subscriptions(agentId: Int64) async throws -> [PushSubscription]

    /// Deletes a subscription: any agent's when `agentId` is nil, else only that agent's own.
    /// Returns whether one was deleted.
    func removeSubscription(id: Int64, agentId: Int64?) async throws -> Bool

    /// Registers a phone's token (`token` as the domain normalised it) for `agentId`; registering
    /// one's own again keeps it. Returns its id; `device_taken` if another agent holds it.
    func addDevice(agentId: Int64, platform: PushPlatform, token: String, now: Date) async throws -> Int64

    /// The agent's phones, on one platform or all, oldest first.
    func devices(agentId: Int64, platform: PushPlatform?) async throws -> [PushDevice]

    /// Deletes a phone: any agent's when `agentId` is nil, else only that agent's own. Returns
    /// whether one was deleted.
    func removeDevice(id: Int64, agentId: Int64?) async throws -> Bool
}

extension InboxError {
    public static let endpointTaken = InboxError.conflict(code: "endpoint_taken", message: "another agent has registered this push endpoint")
    public static let deviceTaken = InboxError.conflict(
        code: "device_taken", message: "another agent has registered this device; they unregister it first")
}

/// `PushDeviceStore` on SQLite: the owner check and the write in one write transaction (SQLite's
/// single writer makes them atomic).
public struct SQLitePushDeviceStore: PushDeviceStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func addSubscription(agentId: Int64, endpoint: String, p256dh: String, auth: String, now: Date) async throws -> Int64 {
        try await database.pool.write { db in
            let owner = try Int64.fetchOne(db, sql: "SELECT agent_id FROM push_subscriptions WHERE endpoint = ?", arguments: [endpoint])
            if let owner, owner != agentId { throw InboxError.endpointTaken }
            try db.execute(sql: """
                INSERT INTO push_subscriptions (agent_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
                """, arguments: [agentId, endpoint, p256dh, auth, now.ms])
            return try Int64.fetchOne(db, sql: "SELECT id FROM push_subscriptions WHERE endpoint = ?", arguments: [endpoint]) ?? 0
        }
    }

    public func subscriptions(agentId: Int64) async throws -> [PushSubscription] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM push_subscriptions WHERE agent_id = ? ORDER BY id", arguments: [agentId]).map {
                PushSubscription(id: $0["id"], endpoint: $0["endpoint"], p256dh: $0["p256dh"], auth: $0["auth"])
            }
        }
    }

    public func removeSubscription(id: Int64, agentId: Int64?) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM push_subscriptions WHERE id = ? AND (? IS NULL OR agent_id = ?)", arguments: [id, agentId, agentId])
            return db.changesCount == 1
        }
    }

    public func addDevice(agentId: Int64, platform: PushPlatform, token: String, now: Date) async throws -> Int64 {
        try await database.pool.write { db in
            let owner = try Int64.fetchOne(db, sql: "SELECT agent_id FROM push_devices WHERE platform = ? AND token = ?", arguments: [platform.rawValue, token])
            if let owner, owner != agentId { throw InboxError.deviceTaken }
            try db.execute(sql: """
                INSERT INTO push_devices (agent_id, platform, token, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (platform, token) DO NOTHING
                """, arguments: [agentId, platform.rawValue, token, now.ms])
            return try Int64.fetchOne(db, sql: "SELECT id FROM push_devices WHERE platform = ? AND token = ?", arguments: [platform.rawValue, token]) ?? 0
        }
    }

    public func devices(agentId: Int64, platform: PushPlatform?) async throws -> [PushDevice] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM push_devices WHERE agent_id = ? AND (? IS NULL OR platform = ?) ORDER BY id",
                arguments: [agentId, platform?.rawValue, platform?.rawValue]
            ).compactMap { row in
                PushPlatform(rawValue: row["platform"]).map { PushDevice(id: row["id"], platform: $0, token: row["token"]) }
            }
        }
    }

    public func removeDevice(id: Int64, agentId: Int64?) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM push_devices WHERE id = ? AND (? IS NULL OR agent_id = ?)", arguments: [id, agentId, agentId])
            return db.changesCount == 1
        }
    }
}

/// Printed without the browser's keys.
extension PushSubscription: CustomStringConvertible {
    public var description: String { "PushSubscription(id: \(id), endpoint: \(endpoint))" }
}
