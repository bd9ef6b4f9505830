import ChannelKit
import Foundation
import JWTKit
import UniversalInbox

/// A Firebase service account: the fields of its JSON key file that sending needs.
public struct FCMServiceAccount: Sendable, Equatable, Decodable {
    public var projectId: String
    public var clientEmail: String
    public var privateKeyId: String
    /// PEM (PKCS#8), as the key file carries it.
    public var privateKey: String
    /// Where access tokens come from (the key file's `token_uri`).
    public var tokenURI: String

    enum CodingKeys: String, CodingKey {
        case projectId = "project_id", clientEmail = "client_email", privateKeyId = "private_key_id", privateKey = "private_key", tokenURI = "token_uri"
    }

    public init(projectId: String, clientEmail: String, privateKeyId: String, privateKey: String, tokenURI: String = "https://oauth2.googleapis.com/token") {
        self.projectId = projectId
        self.clientEmail = clientEmail
        self.privateKeyId = privateKeyId
        self.privateKey = privateKey
        self.tokenURI = tokenURI
    }
}

/// Alerts to agents' phones through FCM HTTP v1: the service account signs an RS256 JWT, trades it
/// at the token endpoint for an access token (kept until five minutes before it expires, fetched
/// again when FCM answers 401), and each registered device gets one `messages:send`. A token FCM
/// calls `UNREGISTERED` (404) is dropped; `INVALID_ARGUMENT` (400) fails the alert without dropping
/// the device, as FCM uses it for bad requests too.
public struct FCMAlertDelivery: AlertDelivery {
    public let inbox: Inbox
    public let account: FCMServiceAccount
    /// `https://fcm.googleapis.com` unless a stand-in's.
    public let apiBaseURL: String
    public let transport: any HTTPTransport
    private let tokens = AccessTokenCache()
    private let key: JWTSigningKey

    /// Throws when the service account's private key is not an RSA key in PEM.
    public init(inbox: Inbox, account: FCMServiceAccount, apiBaseURL: String = "https://fcm.googleapis.com", transport: any HTTPTransport) throws {
        self.inbox = inbox
        self.account = account
        self.apiBaseURL = apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL
        self.transport = transport
        self.key = try JWTSigningKey(rsaPEM: account.privateKey, kid: account.privateKeyId)
    }

    public func deliver(_ alert: PendingAlert) async throws -> Bool {
        var reached = false
        for device in try await inbox.pushDevices(agentId: alert.agentId, platform: .fcm) {
            let body = try JSONSerialization.data(withJSONObject: ["message": [
                "token": device.token,
                "notification": ["title": alert.title, "body": alert.text],
                "data": ["ticketId": String(alert.ticketId), "event": alert.event.rawValue, "count": String(alert.count)],
                "android": ["priority": "high", "collapse_key": "ticket-\(alert.ticketId)"],
            ]], options: [.sortedKeys])
            let response = try await transport.perform(TransportRequest(
                method: "POST", url: "\(apiBaseURL)/v1/projects/\(account.projectId)/messages:send",
                headers: [("Authorization", "Bearer \(try await accessToken())"), ("Content-Type", "application/json; charset=UTF-8")], body: body))
            let status = (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["error"].flatMap { ($0 as? [String: Any])?["status"] as? String }
            switch response.status {
            case 200..<300: reached = true
            case 404: try await inbox.removePushDevice(id: device.id)
            case 401:
                await tokens.forget()
                throw SendError.retryable("fcm_401", "FCM refused the access token (\(status ?? "UNAUTHENTICATED")); a new one is fetched")
            default:
                throw PlatformAPI.error(forStatus: response.status, reason: "FCM answered \(response.status) \(status ?? "")", retryAfter: response.retryAfter)
            }
        }
        return reached
    }

    /// The cached access token, or a new one for a freshly signed assertion.
    func accessToken(now: Date = Date()) async throws -> String {
        if let token = await tokens.valid(at: now) { return token }
        let issued = Int(now.timeIntervalSince1970)
        let assertion = try await key.sign(ServiceAccountClaims(
            iss: account.clientEmail, scope: "https://www.googleapis.com/auth/firebase.messaging", aud: account.tokenURI, iat: issued, exp: issued + 3600))
        let response = try await transport.perform(TransportRequest(
            method: "POST", url: account.tokenURI, headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Data(FormEncoding.encode([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)]).utf8)))
        guard (200..<300).contains(response.status) else {
            throw PlatformAPI.error(forStatus: response.status, reason: "the token endpoint answered \(response.status)", retryAfter: response.retryAfter)
        }
        struct Grant: Decodable {
            var access_token: String
            var expires_in: Int
        }
        guard let grant = try? JSONDecoder().decode(Grant.self, from: response.body) else {
            throw SendError.retryable("fcm_token", "the token endpoint's answer has no access_token")
        }
        await tokens.keep(grant.access_token, until: now.addingTimeInterval(TimeInterval(grant.expires_in) - 300))
        return grant.access_token
    }
}

/// The OAuth 2.0 JWT-bearer assertion a service account signs.
struct ServiceAccountClaims: JWTPayload {
    var iss: String
    var scope: String
    var aud: String
    var iat: Int
    var exp: Int

    /// Only signed here, never verified.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// An access token and when to stop using it.
actor AccessTokenCache {
    private var token: (value: String, until: Date)?

    func valid(at now: Date) -> String? {
        guard let token, token.until > now else { return nil }
        return token.value
    }

    func keep(_ value: String, until: Date) { token = (value, until) }

    func forget() { token = nil }
}
