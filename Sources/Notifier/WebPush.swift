import ChannelKit
import Crypto
import Foundation
import JWTKit
import UniversalInbox

/// Web Push (RFC 8030) with VAPID (RFC 8292) and `aes128gcm` payload encryption (RFC 8291):
/// each of the agent's subscribed browsers gets the alert's title and body, readable only with
/// the browser's private key. A subscription the push service says is gone (404, 410) is dropped.
public struct WebPushAlertDelivery: AlertDelivery {
    public let inbox: Inbox
    public let vapid: VAPIDKey
    public let transport: any HTTPTransport

    public init(inbox: Inbox, vapid: VAPIDKey, transport: any HTTPTransport) {
        self.inbox = inbox
        self.vapid = vapid
        self.transport = transport
    }

    public func deliver(_ alert: PendingAlert) async throws -> Bool {
        let subscriptions = try await inbox.pushSubscriptions(agentId: alert.agentId)
        let payload = try JSONSerialization.data(
            withJSONObject: ["title": "Ticket #\(alert.ticketId)", "body": alert.text, "ticketId": alert.ticketId, "event": alert.event.rawValue, "count": alert.count],
            options: [.sortedKeys])
        var reached = false
        for subscription in subscriptions {
            guard let key = Base64URL.decode(subscription.p256dh), let auth = Base64URL.decode(subscription.auth) else { continue }
            let body = try WebPushPayload.encrypt(payload, to: key, auth: auth)
            let response: TransportResponse
            do {
                response = try await transport.perform(TransportRequest(
                    method: "POST", url: subscription.endpoint,
                    headers: [
                        ("TTL", "86400"), ("Urgency", "high"), ("Content-Encoding", "aes128gcm"), ("Content-Type", "application/octet-stream"),
                        ("Authorization", try await vapid.authorization(for: subscription.endpoint)),
                    ], body: body))
            } catch TransportError.refused {
                // An endpoint the egress policy refuses (stored before endpoints were checked) never becomes deliverable.
                try await inbox.removePushSubscription(id: subscription.id)
                continue
            }
            switch response.status {
            case 200..<300: reached = true
            case 404, 410: try await inbox.removePushSubscription(id: subscription.id)
            default: throw PlatformAPI.error(forStatus: response.status, reason: "the push service answered \(response.status)", retryAfter: response.retryAfter)
            }
        }
        return reached
    }
}

/// The application server's P-256 key for VAPID, and the contact it gives push services.
public struct VAPIDKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey
    /// `mailto:` or `https:` contact.
    public let subject: String
    private let signer: JWTSigningKey

    /// `privateKey`: the raw 32-byte scalar, base64url (as web-push tools print it).
    public init(privateKey: String, subject: String) throws {
        guard let raw = Base64URL.decode(privateKey) else { throw SendError.permanent("invalid_vapid_key", "the VAPID private key is not base64url") }
        self.privateKey = try P256.Signing.PrivateKey(rawRepresentation: raw)
        self.subject = subject
        self.signer = try JWTSigningKey(p256: self.privateKey)
    }

    /// The public key browsers subscribe with (`applicationServerKey`), uncompressed, base64url.
    public var publicKey: String { Base64URL.encode(privateKey.publicKey.x963Representation) }

    /// `vapid t=<JWT>, k=<public key>` for a push to `endpoint`, valid 12 hours.
    public func authorization(for endpoint: String, now: Date = Date()) async throws -> String {
        guard let url = URL(string: endpoint), let scheme = url.scheme, let host = url.host else {
            throw SendError.permanent("invalid_endpoint", "\(endpoint) is not a push endpoint")
        }
        let audience = "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
        let token = try await signer.sign(VAPIDClaims(aud: audience, exp: Int(now.timeIntervalSince1970) + 12 * 3600, sub: subject))
        return "vapid t=\(token), k=\(publicKey)"
    }
}

/// A VAPID JWT's claims: the push service's origin, the expiry, the contact.
struct VAPIDClaims: JWTPayload {
    var aud: String
    var exp: Int
    var sub: String

    /// Only signed here, never verified.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// RFC 8291 `aes128gcm` encryption of one record for a browser's key and auth secret.
public enum WebPushPayload {
    /// `salt` and `ephemeral` are random unless given (test vectors).
    public static func encrypt(
        _ plaintext: Data, to browserKey: Data, auth: Data, salt: Data = randomBytes(16), ephemeral: P256.KeyAgreement.PrivateKey = .init()
    ) throws -> Data {
        let browser = try P256.KeyAgreement.PublicKey(x963Representation: browserKey)
        let serverKey = ephemeral.publicKey.x963Representation
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: browser)
        let (key, nonce) = try keys(shared: shared, auth: auth, browserKey: browserKey, serverKey: serverKey, salt: salt)
        let sealed = try AES.GCM.seal(plaintext + Data([0x02]), using: key, nonce: nonce)
        var body = salt
        body.append(contentsOf: [0x00, 0x00, 0x10, 0x00])  // record size 4096
        body.append(UInt8(serverKey.count))
        body.append(serverKey)
        body.append(sealed.ciphertext)
        body.append(sealed.tag)
        return body
    }

    /// The content key and nonce both sides derive from the shared secret.
    public static func keys(shared: SharedSecret, auth: Data, browserKey: Data, serverKey: Data, salt: Data) throws -> (SymmetricKey, AES.GCM.Nonce) {
        let ikm = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: auth, sharedInfo: Data("WebPush: info\0".utf8) + browserKey + serverKey, outputByteCount: 32)
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: aes128gcm\0".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: nonce\0".utf8), outputByteCount: 12)
        return (key, try AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }))
    }

    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
