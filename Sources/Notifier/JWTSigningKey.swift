import Crypto
import JWTKit

/// A private key that signs JWTs with jwt-kit. The key is parsed (and refused) when the delivery
/// is made; it joins its key collection on first use, as adding to the collection is async.
actor JWTSigningKey {
    private let keys = JWTKeyCollection()
    private let kid: JWKIdentifier?
    private var install: (@Sendable (JWTKeyCollection, JWKIdentifier?) async -> Void)?

    /// RS256 (an RSA key in PEM, e.g. a Google service account's).
    init(rsaPEM pem: String, kid: String) throws {
        let key = try Insecure.RSA.PrivateKey(pem: pem)
        self.kid = JWKIdentifier(string: kid)
        self.install = { keys, kid in await keys.add(rsa: key, digestAlgorithm: .sha256, kid: kid) }
    }

    /// ES256 (a P-256 key in PEM, e.g. an APNs .p8 key).
    init(p256PEM pem: String, kid: String) throws {
        let key = try ES256PrivateKey(pem: pem)
        self.kid = JWKIdentifier(string: kid)
        self.install = { keys, kid in await keys.add(ecdsa: key, kid: kid) }
    }

    /// ES256 with a P-256 key already in hand and no `kid` (VAPID).
    init(p256 key: P256.Signing.PrivateKey) throws {
        let key = try ES256PrivateKey(backing: key)
        self.kid = nil
        self.install = { keys, _ in await keys.add(ecdsa: key) }
    }

    /// The compact JWT for `payload`, with this key's `kid` (if any) in the header.
    func sign(_ payload: some JWTPayload) async throws -> String {
        if let install {
            await install(keys, kid)
            self.install = nil
        }
        return try await keys.sign(payload, kid: kid)
    }
}
