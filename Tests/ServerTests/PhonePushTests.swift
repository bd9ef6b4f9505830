@testable import BridgeServer
import ChannelKit
import Crypto
import Foundation
import NIOSSL
import Notifier
import PlatformStandIns
import Testing
import UniversalInbox
import _CryptoExtras

/// Push alerts to agents' phones: FCM HTTP v1 (service-account RS256 JWT traded for an access
/// token at a token endpoint stand-in) and APNs (ES256 provider token, HTTP/2 over TLS to a
/// stand-in with its own certificate). Each JWT is checked against the public key.
@Suite struct PhonePushTests {
    /// A JWT's header and claims, after checking its signature with `valid`.
    static func openJWT(_ jwt: String, valid: (Data, Data) throws -> Bool) throws -> (header: [String: Any], claims: [String: Any]) {
        let parts = jwt.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(try valid(Data("\(parts[0]).\(parts[1])".utf8), signature), "the JWT's signature holds")
        let header = try JSONSerialization.jsonObject(with: try #require(Base64URL.decode(parts[0]))) as? [String: Any] ?? [:]
        let claims = try JSONSerialization.jsonObject(with: try #require(Base64URL.decode(parts[1]))) as? [String: Any] ?? [:]
        return (header, claims)
    }

    /// Sets an agent up for `assigned` alerts by push and registers a phone.
    func agentWithPhone(_ t: TestBridge, platform: String, tokens: [String]) async throws -> TestBridge.AgentLogin {
        let ann = try await t.addAgent("Ann")
        #expect(try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"assigned":["push"],"new_ticket":[]}}"#.utf8), token: ann.token).status == 200)
        for token in tokens {
            let added = try await t.postJSON("/api/v1/me/push-devices", #"{"platform":"\#(platform)","token":"\#(token)"}"#, token: ann.token)
            #expect(added.status == 201, "\(added.text)")
        }
        return ann
    }

    @Test func fcmSignsInTradesForATokenAndSends() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let fcm = PlatformStandIn { request, _ in
            request.path == "/token" ? .json(#"{"access_token":"ya29.test-access","expires_in":3600,"token_type":"Bearer"}"#) : .json(#"{"name":"projects/bridge-test/messages/1"}"#)
        }
        try await fcm.start()
        defer { Task { await fcm.stop() } }
        fcm.script("/v1/projects/bridge-test/messages:send", [
            .json(#"{"error":{"code":401,"status":"UNAUTHENTICATED"}}"#, status: 401),  // the first access token is refused once
        ])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fcm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("service-account.json")
        let serviceAccount: [String: Any] = [
            "type": "service_account", "project_id": "bridge-test", "private_key_id": "key-1", "private_key": key.pemRepresentation,
            "client_email": "bridge@bridge-test.iam.gserviceaccount.com", "token_uri": fcm.baseURL + "/token",
        ]
        try JSONSerialization.data(withJSONObject: serviceAccount).write(to: keyFile)
        let yaml = "notifier: { fcm: { serviceAccountFile: \(keyFile.path), apiBaseURL: \"\(fcm.baseURL)\" } }"

        try await TestBridge.with(standIns: [.line], configure: {
            let parsed = try? ConfigLoader.parse(yaml: yaml)
            $0.notifier.fcm = parsed?.notifier.fcm
            $0.notifier.fcmAPIBaseURL = parsed?.notifier.fcmAPIBaseURL ?? ""
        }) { t in
            #expect(try await t.postJSON("/api/v1/me/push-devices", #"{"platform":"apns","token":"abc"}"#, token: t.addAgent("Bob").token).errorCode == "push_not_configured")
            let ann = try await agentWithPhone(t, platform: "fcm", tokens: ["fcm-token-phone", "fcm-token-gone"])
            fcm.script("/v1/projects/bridge-test/messages:send", [.json(#"{"name":"m"}"#), .json(#"{"error":{"code":404,"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}}"#, status: 404)])
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(ann.id)}"#)
            try await t.eventually("the alert sent") { fcm.requests(to: "/v1/").count >= 3 }
            try await t.eventually("the unregistered phone dropped") {
                try await t.get("/api/v1/me/push-devices", token: ann.token).items.map { $0["token"] as? String } == ["fcm-token-phone"]
            }

            // Two token requests: the first token was refused (401), so a new one was fetched.
            let grants = fcm.requests(to: "/token")
            #expect(grants.count == 2)
            let form = Dictionary(uniqueKeysWithValues: (FormEncoding.decode(grants[0].body) ?? []).map { ($0.0, $0.1) })
            #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
            let jwt = try Self.openJWT(try #require(form["assertion"])) { input, signature in
                key.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
            }
            #expect(jwt.header["alg"] as? String == "RS256")
            #expect(jwt.header["kid"] as? String == "key-1")
            #expect(jwt.claims["iss"] as? String == "bridge@bridge-test.iam.gserviceaccount.com")
            #expect(jwt.claims["scope"] as? String == "https://www.googleapis.com/auth/firebase.messaging")
            #expect(jwt.claims["aud"] as? String == fcm.baseURL + "/token")
            #expect((jwt.claims["exp"] as? Int ?? 0) - (jwt.claims["iat"] as? Int ?? 0) == 3600)

            let sends = fcm.requests(to: "/v1/projects/bridge-test/messages:send")
            #expect(sends.count == 3)
            #expect(sends.allSatisfy { $0.headers["authorization"] == "Bearer ya29.test-access" })
            let message = try #require((sends[1].json as? [String: Any])?["message"] as? [String: Any])
            #expect(message["token"] as? String == "fcm-token-phone")
            let notification = message["notification"] as? [String: Any]
            #expect(notification?["title"] as? String == "Ticket #\(ticket): assigned to you")
            #expect((notification?["body"] as? String)?.hasPrefix("Ticket #\(ticket) is now yours") == true)
            #expect((message["data"] as? [String: String])?["ticketId"] == String(ticket))
        }
        try? FileManager.default.removeItem(at: directory)
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func apnsSignsAProviderTokenAndSendsOverHTTP2() async throws {
        let key = P256.Signing.PrivateKey()
        let tls = try TestTLS.make()
        let apns = PlatformStandIn(tls: tls.server) { _, _ in PlatformStandIn.Reply(status: 200, headers: ["apns-id": UUID().uuidString]) }
        try await apns.start()
        defer { Task { await apns.stop() } }
        let phone = String(repeating: "ab", count: 32)
        let gone = String(repeating: "cd", count: 32)
        apns.script("/3/device/\(gone)", [.json(#"{"reason":"Unregistered","timestamp":1700000000000}"#, status: 410)])

        try await TestBridge.with(standIns: [.line], configure: {
            $0.notifier.apns = APNsSettings(teamId: "TEAM123456", keyId: "KEY1234567", privateKey: key.pemRepresentation, topic: "com.example.inbox", apiBaseURL: apns.baseURL)
            $0.notifier.apnsCAFile = tls.certificate
        }) { t in
            let ann = try await agentWithPhone(t, platform: "apns", tokens: [phone.uppercased(), gone])
            #expect(try await t.postJSON("/api/v1/me/push-devices", #"{"platform":"apns","token":"not hex"}"#, token: ann.token).errorCode == "invalid_token")
            // Another agent cannot take Ann's phone over; Ann registering it again keeps it hers.
            let bob = try await t.addAgent("Bob")
            let taken = try await t.postJSON("/api/v1/me/push-devices", #"{"platform":"apns","token":"\#(phone)"}"#, token: bob.token)
            #expect(taken.status == 409)
            #expect(taken.errorCode == "device_taken")
            #expect(try await t.postJSON("/api/v1/me/push-devices", #"{"platform":"apns","token":"\#(phone)"}"#, token: ann.token).status == 201)
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(ann.id)}"#)
            try await t.eventually("the unregistered iPhone dropped") {
                try await t.get("/api/v1/me/push-devices", token: ann.token).items.map { $0["token"] as? String } == [phone]
            }
            let sent = try #require(apns.requests(to: "/3/device/\(phone)").first)
            #expect(sent.http2, "APNs is spoken over HTTP/2")
            #expect(sent.method == "POST")
            #expect(sent.headers["apns-topic"] == "com.example.inbox")
            #expect(sent.headers["apns-push-type"] == "alert")
            #expect(sent.headers["apns-priority"] == "10")
            #expect(sent.headers["apns-collapse-id"] == "ticket-\(ticket)")
            let bearer = try #require(sent.headers["authorization"]?.replacingOccurrences(of: "bearer ", with: ""))
            let jwt = try Self.openJWT(bearer) { input, signature in
                key.publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: input)
            }
            #expect(jwt.header["alg"] as? String == "ES256")
            #expect(jwt.header["kid"] as? String == "KEY1234567")
            #expect(jwt.claims["iss"] as? String == "TEAM123456")
            #expect(abs((jwt.claims["iat"] as? Int ?? 0) - Int(Date().timeIntervalSince1970)) < 120)
            let aps = (sent.json as? [String: Any])?["aps"] as? [String: Any]
            let alert = aps?["alert"] as? [String: Any]
            #expect(alert?["title"] as? String == "Ticket #\(ticket): assigned to you")
            #expect((alert?["body"] as? String)?.hasPrefix("Ticket #\(ticket) is now yours") == true)
            // Both devices were tried with the same provider token (it is reused, not signed per request).
            #expect(apns.requests(to: "/3/device/\(gone)").first?.headers["authorization"] == sent.headers["authorization"])
            try await t.eventually("the alert recorded as sent") {
                try await t.bridge.inbox.database.pool.read { db in
                    try String.fetchOne(db, sql: "SELECT status FROM notifications WHERE agent_id = ? AND medium = 'push'", arguments: [ann.id])
                } == "sent"
            }
        }
        tls.remove()
    }
}

/// A self-signed certificate for 127.0.0.1 (made with the openssl tool) and a server TLS
/// configuration that uses it.
struct TestTLS {
    let directory: URL
    let certificate: String
    let server: TLSConfiguration

    static func make() throws -> TestTLS {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", certificate,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw TestBridge.TimeoutError(what: "openssl made a certificate") }
        let server = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return TestTLS(directory: directory, certificate: certificate, server: server)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
