@testable import BridgeServer
import ChannelKit
import Crypto
import Foundation
import Notifier
import PlatformStandIns
import Testing
import UniversalInbox

/// Web Push alerts: RFC 8291 encryption (checked against the RFC's worked example and decrypted by
/// a local push endpoint with the browser's private key), VAPID (RFC 8292), gone subscriptions.
@Suite struct WebPushTests {
    /// The browser's side of RFC 8291 §3.4, written out with HMAC-SHA256 (independent of the sender's HKDF calls).
    static func decrypt(_ body: Data, browserKey: P256.KeyAgreement.PrivateKey, auth: Data) throws -> Data {
        let bytes = [UInt8](body)
        let salt = Data(bytes[0..<16])
        let idLength = Int(bytes[20])
        let serverKey = Data(bytes[21..<(21 + idLength)])
        let sealed = Data(bytes[(21 + idLength)...])
        let shared = try browserKey.sharedSecretFromKeyAgreement(with: P256.KeyAgreement.PublicKey(x963Representation: serverKey))
        let ecdh = shared.withUnsafeBytes { Data($0) }
        func hmac(_ key: Data, _ message: Data) -> Data { Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))) }
        let prkKey = hmac(auth, ecdh)
        let ikm = hmac(prkKey, Data("WebPush: info\0".utf8) + browserKey.publicKey.x963Representation + serverKey + Data([1]))
        let prk = hmac(salt, ikm)
        let cek = hmac(prk, Data("Content-Encoding: aes128gcm\0".utf8) + Data([1])).prefix(16)
        let nonce = hmac(prk, Data("Content-Encoding: nonce\0".utf8) + Data([1])).prefix(12)
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
        let padded = try AES.GCM.open(box, using: SymmetricKey(data: cek))
        guard padded.last == 0x02 else { throw TestBridge.TimeoutError(what: "the last-record delimiter") }
        return padded.dropLast()
    }

    @Test func encryptionMatchesTheRFCExample() throws {
        // RFC 8291 Appendix A.
        let serverKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: Base64URL.decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")!)
        let browserKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: Base64URL.decode("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")!)
        let auth = Base64URL.decode("BTBZMqHH6r4Tts7J_aSIgg")!
        let body = try WebPushPayload.encrypt(
            Data("When I grow up, I want to be a watermelon".utf8), to: browserKey.publicKey.x963Representation, auth: auth,
            salt: Base64URL.decode("DGv6ra1nlYgDCS1FRnbzlw")!, ephemeral: serverKey)
        #expect(Base64URL.encode(body) == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
        #expect(String(decoding: try Self.decrypt(body, browserKey: browserKey, auth: auth), as: UTF8.self) == "When I grow up, I want to be a watermelon")
    }

    @Test func alertsReachTheBrowserEncryptedAndSignedAndGoneSubscriptionsAreDropped() async throws {
        let pushService = PlatformStandIn { request, _ in
            request.path.hasPrefix("/push/gone") ? .init(status: 410) : .init(status: 201)
        }
        try await pushService.start()
        defer { Task { await pushService.stop() } }
        let vapid = P256.Signing.PrivateKey()
        try await TestBridge.with(standIns: [.line], configure: {
            $0.notifier.vapidPrivateKey = Base64URL.encode(vapid.rawRepresentation)
            $0.notifier.vapidSubject = "mailto:ops@example.com"
        }) { t in
            let ann = try await t.addAgent("Ann")
            #expect(try await t.get("/api/v1/push/vapid-public-key", token: ann.token).json["publicKey"] as? String == Base64URL.encode(vapid.publicKey.x963Representation))
            let browser = P256.KeyAgreement.PrivateKey()
            let auth = WebPushPayload.randomBytes(16)
            let keys = #""keys":{"p256dh":"\#(Base64URL.encode(browser.publicKey.x963Representation))","auth":"\#(Base64URL.encode(auth))"}"#
            for path in ["/push/ok", "/push/gone"] {
                #expect(try await t.postJSON("/api/v1/me/push-subscriptions", #"{"endpoint":"\#(pushService.baseURL)\#(path)",\#(keys)}"#, token: ann.token).status == 201)
            }
            #expect(try await t.postJSON("/api/v1/me/push-subscriptions", #"{"endpoint":"\#(pushService.baseURL)/x","keys":{"p256dh":"AAAA","auth":"AAAA"}}"#, token: ann.token).errorCode == "invalid_keys")
            _ = try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"assigned":["push"]}}"#.utf8), token: ann.token)

            let ticket = try await t.customerWrites(Payloads.lineUser, "help")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(ann.id)}"#)
            try await t.eventually("the push delivered") { pushService.requests(to: "/push/ok").count == 1 }
            let push = try #require(pushService.requests(to: "/push/ok").first)
            #expect(push.headers["content-encoding"] == "aes128gcm")
            #expect(push.headers["ttl"] == "86400")
            let payload = try #require(try JSONSerialization.jsonObject(with: try Self.decrypt(push.body, browserKey: browser, auth: auth)) as? [String: Any])
            // (The customer's name may or may not have come from LINE's profile API yet.)
            let text = try #require(payload["body"] as? String)
            #expect(text.hasPrefix("Ticket #\(ticket) is now yours: ") && text.hasSuffix(": help"))
            #expect(payload["ticketId"] as? Int64 == ticket)

            // VAPID: a JWT for the push service's origin, signed with the key browsers were given.
            let authorization = try #require(push.headers["authorization"])
            let parts = authorization.replacingOccurrences(of: "vapid ", with: "").components(separatedBy: ", ")
            let jwt = try #require(parts.first { $0.hasPrefix("t=") }).dropFirst(2).split(separator: ".").map(String.init)
            #expect(parts.contains("k=" + Base64URL.encode(vapid.publicKey.x963Representation)))
            let signature = try P256.Signing.ECDSASignature(rawRepresentation: Base64URL.decode(jwt[2])!)
            #expect(vapid.publicKey.isValidSignature(signature, for: Data((jwt[0] + "." + jwt[1]).utf8)))
            let claims = try #require(try JSONSerialization.jsonObject(with: Base64URL.decode(jwt[1])!) as? [String: Any])
            #expect(claims["aud"] as? String == pushService.baseURL)
            #expect(claims["sub"] as? String == "mailto:ops@example.com")

            try await t.eventually("the gone subscription dropped") {
                try await t.get("/api/v1/me/push-subscriptions", token: ann.token).items.count == 1
            }
        }
    }
}
