import ChannelKit
import Foundation
import JWTKit
import UniversalInbox

/// The token-based APNs connection's settings: the team, the key (.p8) and the app.
public struct APNsSettings: Sendable, Equatable {
    public var teamId: String
    public var keyId: String
    /// The .p8 file's PEM (a P-256 private key).
    public var privateKey: String
    /// The app's bundle ID (`apns-topic`).
    public var topic: String
    /// `https://api.push.apple.com` (or the sandbox), unless a stand-in's.
    public var apiBaseURL: String

    public init(teamId: String, keyId: String, privateKey: String, topic: String, apiBaseURL: String = "https://api.push.apple.com") {
        self.teamId = teamId
        self.keyId = keyId
        self.privateKey = privateKey
        self.topic = topic
        self.apiBaseURL = apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL
    }
}

/// Alerts to agents' iPhones through APNs over HTTP/2 (the transport's client negotiates it): an
/// ES256 provider token signed with the team's key, reused for 40 minutes (APNs refuses tokens
/// older than an hour and too-frequent renewals) and renewed at once when APNs calls it expired
/// or invalid; one request per device, collapsed per ticket. A device APNs calls `Unregistered`
/// (410) or `BadDeviceToken` is dropped.
public struct APNsAlertDelivery: AlertDelivery {
    public let inbox: Inbox
    public let settings: APNsSettings
    public let transport: any HTTPTransport
    private let tokens = AccessTokenCache()
    private let key: JWTSigningKey

    /// Throws when the key is not a P-256 private key in PEM (a .p8 file).
    public init(inbox: Inbox, settings: APNsSettings, transport: any HTTPTransport) throws {
        self.inbox = inbox
        self.settings = settings
        self.transport = transport
        self.key = try JWTSigningKey(p256PEM: settings.privateKey, kid: settings.keyId)
    }

    public func deliver(_ alert: PendingAlert) async throws -> Bool {
        var reached = false
        for device in try await inbox.pushDevices(agentId: alert.agentId, platform: .apns) {
            let body = try JSONSerialization.data(withJSONObject: [
                "aps": ["alert": ["title": alert.title, "body": alert.text], "sound": "default", "thread-id": "ticket-\(alert.ticketId)"],
                "ticketId": alert.ticketId, "event": alert.event.rawValue, "count": alert.count,
            ], options: [.sortedKeys])
            let response = try await transport.perform(TransportRequest(
                method: "POST", url: "\(settings.apiBaseURL)/3/device/\(device.token)",
                headers: [
                    ("authorization", "bearer \(try await providerToken())"), ("apns-topic", settings.topic), ("apns-push-type", "alert"),
                    ("apns-priority", "10"), ("apns-collapse-id", "ticket-\(alert.ticketId)"), ("content-type", "application/json"),
                ], body: body))
            let reason = (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["reason"] as? String
            switch (response.status, reason) {
            case (200..<300, _): reached = true
            case (410, _), (400, "BadDeviceToken"), (400, "DeviceTokenNotForTopic"): try await inbox.removePushDevice(id: device.id)
            case (403, "ExpiredProviderToken"), (403, "InvalidProviderToken"):
                await tokens.forget()
                throw SendError.retryable("apns_\(reason ?? "403")", "APNs refused the provider token; a new one is signed")
            default:
                throw PlatformAPI.error(forStatus: response.status, reason: "APNs answered \(response.status) \(reason ?? "")", retryAfter: response.retryAfter)
            }
        }
        return reached
    }

    /// The provider token in use, or a freshly signed one.
    func providerToken(now: Date = Date()) async throws -> String {
        if let token = await tokens.valid(at: now) { return token }
        let token = try await key.sign(ProviderClaims(iss: settings.teamId, iat: Int(now.timeIntervalSince1970)))
        await tokens.keep(token, until: now.addingTimeInterval(40 * 60))
        return token
    }
}

/// An APNs provider token's claims: the team and when it was issued.
struct ProviderClaims: JWTPayload {
    var iss: String
    var iat: Int

    /// Only signed here, never verified.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
