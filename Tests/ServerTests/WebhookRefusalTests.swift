@testable import BridgeServer
import ChannelKit
import Foundation
import GRDB
import Testing

/// Bad webhooks get a clear JSON error and change nothing.
@Suite struct WebhookRefusalTests {
    func storedCounts(_ t: TestBridge) async throws -> [Int] {
        try await t.bridge.inbox.database.pool.read { db in
            try ["processed_events", "contacts", "tickets", "messages"].map { try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? -1 }
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func refusalsStoreNothing() async throws {
        try await TestBridge.with { t in
            let body = Payloads.lineText("01REFUSED", "hello")

            let unknownKind = try await t.request(.POST, "/webhooks/telegram/main", body: Data(body.utf8), token: nil)
            #expect(unknownKind.status == 404)
            #expect(unknownKind.errorCode == "unknown_channel_kind")

            let unknownAccount = try await t.postLINE(body, account: "nope")
            #expect(unknownAccount.status == 404)
            #expect(unknownAccount.errorCode == "unknown_account")

            let forged = try await t.postLINE(body, signature: Signatures.hmacSHA256Base64(secret: "attacker", body: Data(body.utf8)))
            #expect(forged.status == 401)
            #expect(forged.errorCode == "invalid_signature")

            let unsigned = try await t.request(.POST, "/webhooks/whatsapp/main", body: Data(Payloads.whatsappText("wamid.X", "x").utf8), token: nil)
            #expect(unsigned.status == 401)

            let tampered = try await t.postWhatsApp(
                Payloads.whatsappText("wamid.X", "evil"),
                signature: "sha256=" + Signatures.hmacSHA256Hex(secret: TestBridge.whatsappSecret, body: Data(Payloads.whatsappText("wamid.X", "good").utf8)))
            #expect(tampered.status == 401)

            let malformed = try await t.postLINE(#"{"destination":"U","events":{"type":"message"}}"#)
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "malformed_payload")
            #expect(malformed.errorMessage == "wrong type at events")

            let empty = try await t.postWhatsApp("")
            #expect(empty.status == 400)
            #expect(empty.errorMessage == "empty body")

            let huge = try await t.postLINE(String(repeating: " ", count: (1 << 20) + 10))
            #expect(huge.status == 413)

            // A query string that is not text is refused before anything is verified.
            for query in ["signature=a%00b&timestamp=1&nonce=2", "signature=%FF&timestamp=1&nonce=2"] {
                let bad = try await t.request(.POST, "/webhooks/wechat/main?\(query)", body: Data(Payloads.wechatText("1", "x").utf8), token: nil)
                #expect(bad.status == 400, "\(query)")
                #expect(bad.errorCode == "invalid_query")
                #expect(try await t.request(.GET, "/webhooks/wechat/main?\(query)&echostr=x", token: nil).status == 400)
            }

            #expect(try await storedCounts(t) == [0, 0, 0, 0])
            #expect(try await t.get("/api/v1/tickets").items.isEmpty)
        }
    }

    @Test func whatsappHandshakeOverHTTP() async throws {
        try await TestBridge.with { t in
            let ok = try await t.get("/webhooks/whatsapp/main?hub.mode=subscribe&hub.verify_token=wa-verify-token&hub.challenge=1158201444", token: nil)
            #expect(ok.status == 200)
            #expect(ok.text == "1158201444")
            let wrong = try await t.get("/webhooks/whatsapp/main?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", token: nil)
            #expect(wrong.status == 403)
            #expect(wrong.errorCode == "forbidden")
            let line = try await t.get("/webhooks/line/main", token: nil)
            #expect(line.status == 405)
        }
    }

    @Test func metricsCountWebhooksAndSends() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Payloads.lineText("01M1", "hi"))
            _ = try await t.postLINE(Payloads.lineText("01M1", "hi"))
            _ = try await t.postLINE(Payloads.lineText("01M2", "hi"), signature: "bad")
            let ticketId = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            _ = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"text":"hello"}"#)
            try await t.eventually("a send counted") { try await t.get("/metrics").text.contains(#"bridge_sends_total{channel="line",outcome="sent"} 1"#) }
            let metrics = try await t.get("/metrics").text
            #expect(metrics.contains(#"bridge_webhooks_total{channel="line",outcome="accepted"} 2"#))
            #expect(metrics.contains(#"bridge_webhooks_total{channel="line",outcome="unauthorized"} 1"#))
            #expect(metrics.contains(#"bridge_inbound_events_total{channel="line",outcome="duplicate"} 1"#))
            #expect(metrics.contains("bridge_outbox_depth"))
            let health = try await t.get("/health", token: nil)
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "ok")
        }
    }
}
