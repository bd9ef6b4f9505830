@testable import BridgeServer
import ChannelKit
@testable import Email
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

/// E-mail against a real SMTP server (aiosmtpd with STARTTLS and AUTH required): the mailer, its
/// failures, agents' e-mail alerts and e-mail campaigns.
@Suite struct EmailTests {
    @Test func theMailerUsesSTARTTLSAndAUTHAndTheMailArrivesIntact() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let mailer = SMTPMailer(settings: server.settings(from: "Café Support <support@example.com>"))
        let subject = "ご注文の配送について: your parcel is on its way, with a subject long enough to fold"
        try await mailer.send(EmailMessage(from: mailer.settings.from, to: "kenji@example.jp", subject: subject, text: "こんにちは\nLine two.", id: "m-1"))
        try await mailer.send(EmailMessage(from: mailer.settings.from, to: "ann@example.com", subject: "Second", text: "again", id: "m-2"))

        let mail = try server.received()
        try #require(mail.count == 2)
        #expect(mail[0].from == "support@example.com")
        #expect(mail[0].to == ["kenji@example.jp"])
        #expect(mail[0].user == SMTPTestServer.user)
        #expect(mail[0].tls)
        #expect(SMTPTestServer.decodeWords(mail[0].headers["subject"] ?? "") == subject)
        #expect(SMTPTestServer.decodeWords(mail[0].headers["from"] ?? "") == "Café Support <support@example.com>")
        #expect(mail[0].headers["message-id"] == "<m-1@example.com>")
        #expect(mail[0].headers["content-type"] == "text/plain; charset=UTF-8")
        #expect(mail[0].body == "こんにちは\r\nLine two.")
        #expect(mail[1].to == ["ann@example.com"])
        #expect(mail[1].headers["subject"] == "Second")
    }

    @Test func failuresSayWhetherTryingAgainCanHelp() async throws {
        let server = try SMTPTestServer(reject: ["gone@example.com"])
        defer { server.stop() }
        func failure(_ settings: SMTPSettings, to: String = "ann@example.com") async -> SendError? {
            do {
                try await SMTPMailer(settings: settings).send(EmailMessage(from: settings.from, to: to, subject: "s", text: "t", id: "x"))
                return nil
            } catch {
                return error as? SendError
            }
        }
        let wrongPassword = await failure(server.settings(password: "wrong"))
        #expect(wrongPassword?.code == "smtp_auth")
        #expect(wrongPassword?.isRetryable == false)
        #expect(wrongPassword?.description.contains("wrong") == false)
        let rejected = await failure(server.settings(), to: "gone@example.com")
        #expect(rejected?.code == "smtp_550")
        #expect(rejected?.isRetryable == false)
        var untrusted = server.settings()
        untrusted.caFile = nil
        #expect(await failure(untrusted)?.code == "smtp_certificate")
        var closed = server.settings()
        closed.url = "smtp://127.0.0.1:1"
        let unreachable = await failure(closed)
        #expect(unreachable?.code == "smtp_transport")
        #expect(unreachable?.isRetryable == true)
        // A line break in an address would inject a header: refused before anything is sent.
        await #expect(throws: EmailError.self) {
            try await SMTPMailer(settings: server.settings()).send(
                EmailMessage(from: "support@example.com", to: "ann@example.com\r\nBcc: all@example.com", subject: "s", text: "t", id: "y"))
        }
        #expect(try server.received().isEmpty)
    }

    /// A send waits for a connection to the relay only `connectionWait`, then fails to be tried again
    /// later: every connection busy with a relay that hangs must not keep a send waiting past the
    /// lease of its job (another process would take the job over and send the mail a second time).
    @Test func aSendWaitsForAConnectionOnlySoLong() async throws {
        let relay = try SilentRelay()
        defer { relay.stop() }
        let settings = SMTPSettings(
            url: "smtp://127.0.0.1:\(relay.port)", from: "support@example.com", allowPlaintext: true, connections: 1,
            timeout: .seconds(120), connectTimeout: .seconds(120), connectionWait: .milliseconds(50))
        let mailer = SMTPMailer(settings: settings)
        let message = EmailMessage(from: settings.from, to: "ann@example.com", subject: "s", text: "t", id: "x")
        let first = Task { try await mailer.send(message) }
        // The only connection is taken, by a relay that never answers.
        let deadline = ContinuousClock.now + .seconds(30)
        while relay.connections == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(relay.connections == 1)
        do {
            try await mailer.send(message)
            Issue.record("a send went out with no connection free")
        } catch let error as SendError {
            #expect(error.code == "smtp_busy")
            #expect(error.isRetryable)
        }
        #expect(relay.connections == 1)
        relay.stop()
        await #expect(throws: SendError.self) { try await first.value }
    }

    /// Campaign mail holds at most all but one connection and waits as long as it takes; single
    /// mail (replies, alerts) takes the one kept free, and is handed the next one given back.
    @Test func campaignMailLeavesAConnectionForRepliesAndAlerts() async throws {
        let pool = HandlePool(count: 2)
        let bulk = try await pool.take(nil)
        let took = Mutex(false)
        let queued = Task {
            let handle = try await pool.take(nil)
            took.withLock { $0 = true }
            return handle
        }
        while await pool.bulkWaiting == 0, !took.withLock({ $0 }) { await Task.yield() }
        #expect(!took.withLock { $0 }, "campaign mail took the last connection")
        let single = try await pool.take(.milliseconds(1))
        // Both are out: single mail now waits, and no longer than its bound.
        await #expect(throws: SendError.self) { try await pool.take(.milliseconds(1)) }
        let next = Task { try await pool.take(.seconds(30)) }
        while await pool.singleWaiting == 0 { await Task.yield() }
        await pool.give(bulk, bulk: true)
        // The handle given back goes to the waiting single mail, not to the queued campaign mail.
        _ = try await next.value
        #expect(await pool.bulkWaiting == 1)
        await pool.give(single, bulk: false)
        _ = try await queued.value
        #expect(await pool.bulkWaiting == 0)
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func agentsGetAlertsByEmail() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(standIns: [.line], configure: {
            $0.email = server.settings(from: "Bridge alerts <alerts@example.com>")
            $0.notifier.coalesceWindow = 0.5
        }) { t in
            let ann = try await t.addAgent("Ann")
            let set = try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"new_ticket":["email"],"assigned":[]}}"#.utf8), token: ann.token)
            #expect(set.status == 200)
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my parcel?")
            try await t.eventually("Ann's alert mail") { try server.received().count == 1 }
            let mail = try server.received()[0]
            #expect(mail.to == ["ann@example.com"])
            #expect(mail.from == "alerts@example.com")
            #expect(mail.headers["subject"] == "Ticket #\(ticket): new ticket")
            #expect(mail.body.contains("New ticket #\(ticket): "))
            #expect(mail.body.contains("Where is my parcel?"))
            try await t.eventually("the alert recorded as sent") {
                try await t.bridge.inbox.database.pool.read { db in
                    try String.fetchOne(db, sql: "SELECT status FROM notifications WHERE agent_id = ? AND medium = 'email'", arguments: [ann.id])
                } == "sent"
            }
        }
    }

    @Test func campaignsGoByEmailAndReportWhoCouldNotGetIt() async throws {
        let server = try SMTPTestServer(reject: ["gone@example.com"])
        defer { server.stop() }
        try await TestBridge.with(standIns: [.line], configure: { $0.email = server.settings(from: "Shop <news@example.com>") }) { t in
            _ = try await t.postLINE(CampaignTests.lineTexts((1...3).map(CampaignTests.user)))
            try await t.eventually("three contacts") { try await t.get("/api/v1/contacts/3").status == 200 }
            #expect(try await t.patchJSON("/api/v1/contacts/1", #"{"email":"kenji@example.jp"}"#).status == 200)
            #expect(try await t.patchJSON("/api/v1/contacts/2", #"{"email":"gone@example.com"}"#).status == 200)

            let created = try await t.postJSON("/api/v1/campaigns", #"""
                {"name":"Winter sale","audience":{"contactIds":[1,2,3]},"channel":"email",
                 "content":{"text":"Dear {{contact.email}}, the winter sale starts today.","subject":"Winter sale for {{contact.email}}"},"start":true}
                """#)
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.json["id"] as? Int)
            try await t.eventually("campaign \(id) completed", timeout: .seconds(20)) {
                try await t.get("/api/v1/campaigns/\(id)").json["status"] as? String == "completed"
            }
            let mail = try server.received()
            try #require(mail.count == 1)
            #expect(mail[0].to == ["kenji@example.jp"])
            #expect(mail[0].headers["subject"] == "Winter sale for kenji@example.jp")
            #expect(mail[0].body.hasPrefix("Dear kenji@example.jp, the winter sale starts today."))

            let report = try await t.get("/api/v1/campaigns/\(id)/report").json
            let email = (report["channels"] as? [[String: Any]] ?? []).first { $0["channel"] as? String == "email" }
            #expect(email?["sent"] as? Int == 1)
            #expect(email?["failed"] as? Int == 1)
            let skipped = try await t.get("/api/v1/campaigns/\(id)/recipients?status=skipped").items
            #expect(skipped.map { $0["contactId"] as? Int } == [3])
            #expect(skipped.first?["reason"] as? String == "no e-mail address")
            let failed = try await t.get("/api/v1/campaigns/\(id)/recipients?status=failed").items
            #expect((failed.first?["reason"] as? String)?.hasPrefix("smtp_550") == true)

            // A channel that is not one is refused.
            #expect(try await t.postJSON("/api/v1/campaigns", #"{"name":"x","audience":{"contactIds":[1]},"channel":"fax","content":{"text":"x"}}"#).errorCode == "invalid_channel")
        }
    }
}

/// A TCP listener that accepts connections and never says a word: an SMTP relay that hangs.
final class SilentRelay: Sendable {
    private let socket: PortHolder
    /// The connections accepted; nil once stopped.
    private let accepted = Mutex<[Int32]?>([])
    /// Signalled when the thread accepting connections has ended.
    private let ended = DispatchSemaphore(value: 0)
    var port: Int { socket.port }

    init() throws {
        socket = try PortHolder()
        Thread.detachNewThread { [self] in
            defer { ended.signal() }
            while true {
                let connection = accept(socket.descriptor, nil, nil)
                guard connection >= 0 else { return }
                let kept = accepted.withLock { accepted in accepted?.append(connection) != nil }
                if !kept { close(connection) }
            }
        }
    }

    var connections: Int { accepted.withLock { $0?.count ?? 0 } }

    /// Closes the listener and every connection (a send on one of them fails); once. The listener
    /// is closed only after its thread has left `accept`, so the thread never waits on a reused descriptor.
    func stop() {
        guard let connections = accepted.withLock({ accepted in defer { accepted = nil }; return accepted }) else { return }
        shutdown(socket.descriptor, Int32(SHUT_RDWR))
        ended.wait()
        socket.close()
        for connection in connections { close(connection) }
    }
}
