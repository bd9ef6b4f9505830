import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `PushDeviceStore` on PostgreSQL. A registration is one statement: an upsert whose update only
/// applies when the row is the same agent's, so a row another agent holds comes back empty (taken)
/// and two processes registering one endpoint at once cannot both own it (the unique index decides,
/// the loser's upsert sees the winner's row).
public struct PostgresPushDeviceStore: PushDeviceStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func addSubscription(agentId: Int64, endpoint: String, p256dh: String, auth: String, now: Date) async throws -> Int64 {
        let rows = try await client.query("""
            INSERT INTO push_subscriptions (agent_id, endpoint, p256dh, auth, created_at) VALUES (\(agentId), \(endpoint), \(p256dh), \(auth), \(now.ms))
            ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth WHERE push_subscriptions.agent_id = excluded.agent_id
            RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw InboxError.endpointTaken
    }

    public func subscriptions(agentId: Int64) async throws -> [PushSubscription] {
        let rows = try await client.query(
            "SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE agent_id = \(agentId) ORDER BY id", logger: logger)
        var subscriptions: [PushSubscription] = []
        for try await (id, endpoint, p256dh, auth) in rows.decode((Int64, String, String, String).self) {
            subscriptions.append(PushSubscription(id: id, endpoint: endpoint, p256dh: p256dh, auth: auth))
        }
        return subscriptions
    }

    public func removeSubscription(id: Int64, agentId: Int64?) async throws -> Bool {
        try await deleted(try await client.query(
            "DELETE FROM push_subscriptions WHERE id = \(id) AND (\(agentId)::bigint IS NULL OR agent_id = \(agentId)) RETURNING id", logger: logger))
    }

    public func addDevice(agentId: Int64, platform: PushPlatform, token: String, now: Date) async throws -> Int64 {
        // The update changes nothing; it is there so that the agent's own row is returned.
        let rows = try await client.query("""
            INSERT INTO push_devices (agent_id, platform, token, created_at) VALUES (\(agentId), \(platform.rawValue), \(token), \(now.ms))
            ON CONFLICT (platform, token) DO UPDATE SET agent_id = push_devices.agent_id WHERE push_devices.agent_id = excluded.agent_id
            RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw InboxError.deviceTaken
    }

    public func devices(agentId: Int64, platform: PushPlatform?) async throws -> [PushDevice] {
        let rows = try await client.query("""
            SELECT id, platform, token FROM push_devices WHERE agent_id = \(agentId) AND (\(platform?.rawValue)::text IS NULL OR platform = \(platform?.rawValue))
            ORDER BY id
            """, logger: logger)
        var devices: [PushDevice] = []
        for try await (id, platform, token) in rows.decode((Int64, String, String).self) {
            // A platform this binary does not know (a newer writer's) is left out, as on SQLite.
            if let platform = PushPlatform(rawValue: platform) { devices.append(PushDevice(id: id, platform: platform, token: token)) }
        }
        return devices
    }

    public func removeDevice(id: Int64, agentId: Int64?) async throws -> Bool {
        try await deleted(try await client.query(
            "DELETE FROM push_devices WHERE id = \(id) AND (\(agentId)::bigint IS NULL OR agent_id = \(agentId)) RETURNING id", logger: logger))
    }

    private func deleted(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }
}
