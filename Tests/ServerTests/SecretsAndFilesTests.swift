@testable import BridgeServer
import ChannelKit
import Foundation
import Logging
import Testing
import UniversalInbox

/// The admin token must be long enough to be a secret; history links have a key of their own; the
/// database, attachments and secret files are readable by the bridge's user only; `/metrics` is
/// not public unless configured so.
@Suite struct SecretsAndFilesTests {
    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bridge-secrets-\(UUID().uuidString)").path
    }

    static func mode(_ path: String) -> String { PrivateFiles.mode(path).map { String($0, radix: 8) } ?? "missing" }

    @Test(arguments: [
        ("auth: { adminToken: \"\" }", [String: String](), "auth.adminToken"),
        ("auth: { adminToken: \"${TOKEN}\" }", ["TOKEN": ""], "auth.adminToken"),
        ("auth: { adminToken: \"${TOKEN}\" }", ["TOKEN": String(repeating: "x", count: 31)], "auth.adminToken"),
        ("", ["BRIDGE_ADMIN_TOKEN": ""], "auth.adminToken (BRIDGE_ADMIN_TOKEN)"),
        ("auth: { adminToken: \"0123456789 0123456789 0123456789\" }", [String: String](), "auth.adminToken"),
    ])
    func aShortAdminTokenIsRefusedNamingTheKey(_ yaml: String, _ environment: [String: String], _ key: String) {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: environment)
            Issue.record("accepted")
        } catch let error as ConfigError {
            #expect(error.key == key)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aLongEnoughAdminTokenIsAccepted() throws {
        let token = String(repeating: "a", count: 32)
        #expect(try ConfigLoader.parse(yaml: "auth: { adminToken: \"${T}\" }", environment: ["T": token]).adminToken == token)
    }

    /// Configured in code (as the tests and the demo do) the rule holds too, before anything is created.
    @Test func aBridgeWithAnEmptyAdminTokenDoesNotStart() async throws {
        let dir = Self.temporaryDirectory()
        var config = BridgeConfig()
        config.server.port = 0
        config.databasePath = dir + "/bridge.sqlite"
        config.adminToken = ""
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let expected = ConfigError(key: "auth.adminToken", problem: try #require(Self.problem("")))
        await #expect(throws: expected) { _ = try await RunningBridge.start(config: config, logger: logger) }
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    static func problem(_ token: String) -> String? {
        do {
            try AdminToken.check(token)
            return nil
        } catch let error as ConfigError {
            return error.problem
        } catch {
            return nil
        }
    }

    /// The attack: with an empty admin token, `?token=` (empty) was the admin token. Even if an
    /// empty admin token reached the authenticator, an empty bearer token is nobody's.
    @Test func anEmptyBearerTokenIsNobodys() async throws {
        let dir = Self.temporaryDirectory()
        let inbox = Inbox(database: try AppDatabase(path: dir + "/bridge.sqlite"))
        #expect(try await Authenticator(adminToken: "", inbox: inbox).actor(token: "") == nil)
        try await TestBridge.with { (t: TestBridge) async throws in
            await #expect(throws: (any Error).self) { _ = try await LiveClient.connect(t, token: "") }
            #expect(try await t.get("/api/v1/me", token: "").status == 401)
        }
    }

    @Test func withoutAConfiguredTokenOneIsMadeOncePrivately() async throws {
        let dir = Self.temporaryDirectory()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let token = try AdminToken.loadOrCreate(in: dir, logger: logger)
        #expect(token.count == 64)
        #expect(Self.mode(dir + "/admin-token") == "600")
        #expect(Self.mode(dir) == "700")
        #expect(try AdminToken.loadOrCreate(in: dir, logger: logger) == token)
        // A hand-written file with a short token is refused like a configured one.
        try PrivateFiles.save(Data("short".utf8), to: dir + "/admin-token")
        #expect(throws: ConfigError.self) { try AdminToken.loadOrCreate(in: dir, logger: logger) }
    }

    /// A link signed with a key derived from the admin token (how links used to be signed, so
    /// anyone who knew or guessed the token could forge one) shows nothing; links are signed with a
    /// random key of their own kept beside the database.
    @Test func historyLinksHaveAKeyOfTheirOwn() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "my order")
            let contact = try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int)
            let expires = Int64(Date().addingTimeInterval(3600).timeIntervalSince1970)
            let payload = "\(contact).\(expires)"
            let oldKey = Signatures.sha256Hex(Data("customer-history-links/\(TestBridge.adminToken)".utf8))
            let forged = payload + "." + Signatures.hmacSHA256Hex(secret: oldKey, body: Data(payload.utf8))
            #expect(try await t.get("/history/\(forged)", token: nil).status == 404)

            let keyFile = t.dataDirectory + "/" + HistoryLinks.keyFile
            #expect(Self.mode(keyFile) == "600")
            let key = try String(contentsOfFile: keyFile, encoding: .utf8)
            #expect(key.count == 64 && !key.contains(TestBridge.adminToken))
            let url = try #require(try await t.postJSON("/api/v1/contacts/\(contact)/history-link", "{}").json["url"] as? String)
            let path = String(url.dropFirst(TestBridge.publicBaseURL.count))
            #expect(try await t.get(path, token: nil).text.contains("my order"))
            #expect(HistoryLinks(key: key).check(String(path.dropFirst("/history/".count))) == .valid(contactId: Int64(contact)))
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func theDatabaseAndSecretsAreReadableByTheBridgeOnly() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.customerWrites(Payloads.lineUser, "hello")  // the WAL and its index exist now
            let dir = t.dataDirectory
            #expect(Self.mode(dir) == "700")
            for file in ["bridge.sqlite", "bridge.sqlite-wal", "bridge.sqlite-shm", HistoryLinks.keyFile] {
                #expect(Self.mode(dir + "/" + file) == "600", "\(file)")
            }
            #expect(Self.mode(dir + "/attachments") == "700")
        }
    }

    @Test func attachmentsArePrivate() throws {
        let dir = Self.temporaryDirectory() + "/media"
        let store = try AttachmentStore(directory: dir)
        let path = try store.write(Data("a customer's photo".utf8), attachmentId: 7)
        #expect(Self.mode(dir) == "700")
        #expect(Self.mode(path) == "600")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("a customer's photo".utf8))
        // Replaced atomically, still private, no temporary file left.
        _ = try store.write(Data("again".utf8), attachmentId: 7)
        #expect(Self.mode(path) == "600")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["7"])
    }

    /// A database made by an older version (0644) is narrowed when the bridge opens it.
    @Test func anOlderWorldReadableDatabaseIsNarrowed() throws {
        let dir = Self.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/bridge.sqlite", contents: Data(), attributes: [.posixPermissions: 0o644])
        #expect(Self.mode(dir + "/bridge.sqlite") == "644")
        _ = try AppDatabase(path: dir + "/bridge.sqlite")
        #expect(Self.mode(dir + "/bridge.sqlite") == "600")
    }

    @Test func metricsNeedAnOwnersOrAdminsTokenByDefault() async throws {
        try await TestBridge.with { t in
            let agent = try await t.addAgent("Carl")
            let admin = try await t.addAgent("Ada", role: "admin")
            #expect(try await t.get("/metrics", token: nil).status == 401)
            #expect(try await t.get("/metrics", token: "not-a-token").status == 401)
            #expect(try await t.get("/metrics", token: agent.token).status == 403)
            #expect(try await t.get("/metrics", token: admin.token).text.contains("bridge_"))
            #expect(try await t.get("/metrics").status == 200)
        }
    }

    @Test(arguments: [(BridgeConfig.MetricsAccess.public, 200), (.off, 404)])
    func metricsCanBePublicOrOff(_ access: BridgeConfig.MetricsAccess, _ status: Int) async throws {
        try await TestBridge.with(configure: { $0.server.metrics = access }) { (t: TestBridge) async throws in
            #expect(try await t.get("/metrics", token: nil).status == status)
            #expect(try await t.get("/metrics").status == status)
        }
        #expect(try ConfigLoader.parse(yaml: "server: { metrics: \(access.rawValue) }").server.metrics == access)
    }
}
