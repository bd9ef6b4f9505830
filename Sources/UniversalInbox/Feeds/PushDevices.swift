import Foundation

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

    public init(id: Int64, platform: PushPlatform, token: String) {
        self.id = id
        self.platform = platform
        self.token = token
    }
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
        let id = try await stores.pushTargets.addDevice(agentId: agentId, platform: platform, token: stored, now: clock())
        return PushDevice(id: id, platform: platform, token: stored)
    }

    /// The agent's phones, on one platform or all.
    public func pushDevices(agentId: Int64, platform: PushPlatform? = nil) async throws -> [PushDevice] {
        try await stores.pushTargets.devices(agentId: agentId, platform: platform)
    }

    /// Forgets a phone (the agent's choice, or the push service said the token is no longer valid).
    public func removePushDevice(id: Int64, agentId: Int64? = nil) async throws {
        guard try await stores.pushTargets.removeDevice(id: id, agentId: agentId) || agentId == nil else { throw InboxError.notFound("push device \(id)") }
    }
}
