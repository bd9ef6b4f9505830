import Foundation
import GRDB

/// Where a phone's push alerts go through.
public enum PushPlatform: String, Sendable, Codable, CaseIterable {
    /// Firebase Cloud Messaging (Android, and iOS apps built on Firebase): a registration token.
    case fcm
    /// Apple Push Notification service: a device token (hex).
    case apns
}

/// A phone an agent registered for push alerts.
public struct PushDevice: Sendable, Equatable, Codable {
    public var id: Int64
    public var platform: PushPlatform
    public var token: String
}

extension Inbox {
    /// Registers (or moves to this agent) a phone's FCM registration token or APNs device token.
    public func addPushDevice(agentId: Int64, platform: PushPlatform, token: String) async throws -> PushDevice {
        let token = token.trimmingCharacters(in: .whitespacesAndNewlines)
        switch platform {
        case .apns:
            guard token.count >= 64, token.count <= 200, token.count % 2 == 0, token.allSatisfy(\.isHexDigit) else {
                throw InboxError.unprocessable(code: "invalid_token", message: "an APNs device token is hexadecimal (64 characters or more)")
            }
        case .fcm:
            guard !token.isEmpty, token.count <= 4096, !token.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw InboxError.unprocessable(code: "invalid_token", message: "an FCM registration token is one word of up to 4096 characters")
            }
        }
        let stored = platform == .apns ? token.lowercased() : token
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            // As with browsers' subscriptions: a device another agent registered stays theirs.
            let owner = try Int64.fetchOne(db, sql: "SELECT agent_id FROM push_devices WHERE platform = ? AND token = ?", arguments: [platform.rawValue, stored])
            if let owner, owner != agentId {
                throw InboxError.conflict(code: "device_taken", message: "another agent has registered this device; they unregister it first")
            }
            try db.execute(sql: """
                INSERT INTO push_devices (agent_id, platform, token, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (platform, token) DO NOTHING
                """, arguments: [agentId, platform.rawValue, stored, now])
            return try Int64.fetchOne(db, sql: "SELECT id FROM push_devices WHERE platform = ? AND token = ?", arguments: [platform.rawValue, stored]) ?? 0
        }
        return PushDevice(id: id, platform: platform, token: stored)
    }

    /// The agent's phones, on one platform or all.
    public func pushDevices(agentId: Int64, platform: PushPlatform? = nil) async throws -> [PushDevice] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM push_devices WHERE agent_id = ? AND (? IS NULL OR platform = ?) ORDER BY id",
                arguments: [agentId, platform?.rawValue, platform?.rawValue]
            ).compactMap { row in
                PushPlatform(rawValue: row["platform"]).map { PushDevice(id: row["id"], platform: $0, token: row["token"]) }
            }
        }
    }

    /// Forgets a phone (the agent's choice, or the push service said the token is no longer valid).
    public func removePushDevice(id: Int64, agentId: Int64? = nil) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM push_devices WHERE id = ? AND (? IS NULL OR agent_id = ?)", arguments: [id, agentId, agentId])
            guard db.changesCount == 1 || agentId == nil else { throw InboxError.notFound("push device \(id)") }
        }
    }
}
