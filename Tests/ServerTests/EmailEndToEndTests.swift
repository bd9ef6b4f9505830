@testable import BridgeServer
import ChannelKit
import EmailChannel
import Foundation
import Testing

/// The e-mail channel against a real Dovecot: mail delivered to the support mailbox (IMAP APPEND)
/// becomes tickets; machine mail opens nothing; IDLE delivers without waiting for a poll.
@Suite struct EmailEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/email")

    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent("\(name).eml")) }

    /// The support account on `server`, polling only every three hours: whatever arrives sooner
    /// arrived by IDLE (or by the first round at start).
    static func support(_ server: DovecotServer) -> (inout BridgeConfig) -> Void {
        { config in
            let settings = server.settings()
            config.channels.append(.email(EmailConfiguration(
                id: "support", address: "help@shop.example", name: "Shop Support",
                imap: EmailConfiguration.IMAP(
                    url: settings.url, username: settings.username, password: settings.password, caFile: settings.caFile,
                    pollInterval: .seconds(3 * 3600)))))
        }
    }

    @Test func mailBecomesTicketsAndMachineMailOpensNothing() async throws {
        let server = try DovecotServer()
        try await TestBridge.with(configure: Self.support(server)) { t in
            try server.deliver(try Self.fixture("plain"))
            var tickets: [[String: Any]] = []
            try await t.eventually("the mail's ticket", timeout: .seconds(180)) {
                tickets = try await t.get("/api/v1/tickets?channel=email").items
                return tickets.count == 1
            }
            let first = try #require(tickets.first?["id"] as? Int)
            let messages = try await t.messages(ticket: first)
            #expect(messages.count == 1)
            #expect(messages.first?["text"] as? String == "Where is my order?\n\nHello,\n\nI ordered a lamp last week and it has not arrived.\nOrder 1234.\n\nAna")

            // The customer's answer (References: the first mail's Message-ID) files into the same
            // ticket, reopening it.
            #expect(try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"closed"}"#).status == 200)
            try server.deliver(try Self.fixture("quoted-reply"))
            try await t.eventually("the answer in the first ticket", timeout: .seconds(180)) { try await t.messages(ticket: first).count == 2 }
            #expect(try await t.messages(ticket: first).last?["text"] as? String == "Great, thank you! I will wait for the courier.")
            #expect(try await t.get("/api/v1/tickets/\(first)").json["status"] as? String == "open")

            // The reader now idles (three hours between polls): an auto-reply, bulk mail and a
            // bounce arrive by IDLE and open nothing; the mail after them, in UID order, proves
            // they were read.
            for name in ["auto-reply", "precedence-bulk", "dsn-bounce", "iso-2022-jp"] { try server.deliver(try Self.fixture(name)) }
            try await t.eventually("the Japanese mail's ticket", timeout: .seconds(180)) { try await t.get("/api/v1/tickets?channel=email").items.count >= 2 }
            let all = try await t.get("/api/v1/tickets?channel=email").items
            #expect(all.count == 2)
            let japanese = try #require(all.first { $0["id"] as? Int != first }?["id"] as? Int)
            #expect(try await t.messages(ticket: japanese).first?["text"] as? String == "注文について\n\nお世話になっております。\n先日注文した商品がまだ届いていません。\n確認をお願いします。\n\n山田")

            // The same mail delivered again (a re-fetch) files nothing new.
            try server.deliver(try Self.fixture("plain"))
            try server.deliver(try Self.fixture("html-only"))
            try await t.eventually("the HTML mail's ticket", timeout: .seconds(180)) { try await t.get("/api/v1/tickets?channel=email").items.count >= 3 }
            #expect(try await t.get("/api/v1/tickets?channel=email").items.count == 3)
            #expect(try await t.messages(ticket: first).count == 2)
        }
    }
}
