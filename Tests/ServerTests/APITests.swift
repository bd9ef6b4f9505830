@testable import BridgeServer
import Foundation
import NIOHTTP1
import GRDB
import Testing
import Yams

/// The REST API's refusals: right status, JSON error, nothing changed.
@Suite struct APITests {
    @Test func authIsRequired() async throws {
        try await TestBridge.with { t in
            let none = try await t.get("/api/v1/tickets", token: nil)
            #expect(none.status == 401)
            #expect(none.errorCode == "unauthorized")
            #expect(try await t.get("/api/v1/tickets", token: "wrong").status == 401)
            // The contract itself is public.
            #expect(try await t.get("/api/v1/openapi.yaml", token: nil).status == 200)
        }
    }

    @Test func badRequestsAreRefusedWithReasons() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Payloads.lineText("01API", "hello"))
            let id = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)

            #expect(try await t.get("/api/v1/tickets/999").errorCode == "not_found")
            #expect(try await t.get("/api/v1/tickets/abc").errorCode == "invalid_id")
            #expect(try await t.get("/api/v1/tickets?status=done").errorCode == "invalid_status")
            #expect(try await t.get("/api/v1/tickets?channel=fax").errorCode == "invalid_channel")
            #expect(try await t.get("/api/v1/tickets?limit=0").errorCode == "invalid_limit")
            #expect(try await t.get("/api/v1/tickets?cursor=zzz").errorCode == "invalid_cursor")
            #expect(try await t.get("/api/v1/nothing-here").status == 404)

            let notJSON = try await t.postJSON("/api/v1/tickets/\(id)/messages", "{text:")
            #expect(notJSON.status == 400)
            #expect(notJSON.errorCode == "invalid_json")
            let blank = try await t.postJSON("/api/v1/tickets/\(id)/messages", #"{"text":"   "}"#)
            #expect(blank.status == 422)  // well formed, but nothing to send
            #expect(blank.errorCode == "invalid_request")
            let long = try await t.postJSON("/api/v1/tickets/\(id)/messages", #"{"text":"\#(String(repeating: "a", count: 4097))"}"#)
            #expect(long.errorCode == "text_too_long")
            #expect(try await t.postJSON("/api/v1/tickets/999/messages", #"{"text":"hi"}"#).status == 404)
            #expect(try await t.patchJSON("/api/v1/tickets/\(id)", #"{"status":"finished"}"#).errorCode == "invalid_status")

            // Closed is final.
            #expect(try await t.patchJSON("/api/v1/tickets/\(id)", #"{"status":"closed"}"#).status == 200)
            let reopen = try await t.patchJSON("/api/v1/tickets/\(id)", #"{"status":"open"}"#)
            #expect(reopen.status == 409)
            #expect(reopen.errorCode == "ticket_closed")
            let late = try await t.postJSON("/api/v1/tickets/\(id)/messages", #"{"text":"hi"}"#)
            #expect(late.status == 409)

            #expect(try await t.messages(ticket: id).count == 1)
            #expect(t.line.requests.filter { $0.path.hasPrefix("/v2/bot/message/") }.isEmpty)
        }
    }

    @Test func whatsappWindowRefusesFreeTextButTakesTemplates() async throws {
        try await TestBridge.with(standIns: [.whatsapp]) { t in
            let twoDaysAgo = Int64(Date().timeIntervalSince1970) - 2 * 86400
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.OLD", "hello from last week", at: twoDaysAgo))
            let id = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)

            let refused = try await t.postJSON("/api/v1/tickets/\(id)/messages", #"{"text":"Any news?"}"#)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "outside_window")
            #expect(refused.errorMessage?.contains("template") == true)
            #expect(try await t.messages(ticket: id).count == 1)

            let template = try await t.postJSON(
                "/api/v1/tickets/\(id)/messages", ##"{"template":{"name":"order_shipped","language":"pt_BR","parameters":["#1234"]}}"##)
            #expect(template.status == 202)
            try await t.eventually("the template at WhatsApp") { t.whatsapp.requests.count == 1 }
            let body = try #require(t.whatsapp.requests.first?.json as? [String: Any])
            #expect(body["type"] as? String == "template")
            #expect((body["template"] as? [String: Any])?["name"] as? String == "order_shipped")
        }
    }

    @Test func replyWithAnImageByURL() async throws {
        try await TestBridge.with(standIns: [.whatsapp]) { t in
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.IMG", "can I see it?"))
            let id = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            let bad = try await t.postJSON("/api/v1/tickets/\(id)/messages", #"{"image":{"url":"ftp://x/y.jpg"}}"#)
            #expect(bad.status == 422)
            let reply = try await t.postJSON(
                "/api/v1/tickets/\(id)/messages", #"{"image":{"url":"https://cdn.example.com/shoe.jpg"},"text":"this one"}"#)
            #expect(reply.status == 202)
            #expect((reply.json["content"] as? [String: Any])?["kind"] as? String == "image")
            #expect(reply.json["text"] as? String == "[image] this one")
            try await t.eventually("the image at WhatsApp") { t.whatsapp.requests.count == 1 }
            #expect(t.whatsapp.requests.first?.text == #"{"image":{"caption":"this one","link":"https://cdn.example.com/shoe.jpg"},"messaging_product":"whatsapp","recipient_type":"individual","to":"5511988887777","type":"image"}"#)
        }
    }

    @Test func statusChanges() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Payloads.lineText("01ST", "hello"))
            let id = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            let resolved = try await t.patchJSON("/api/v1/tickets/\(id)", #"{"status":"resolved"}"#)
            #expect(resolved.status == 200)
            #expect(resolved.json["status"] as? String == "resolved")
            #expect(resolved.json["resolvedAt"] is String)
            #expect(try await t.get("/api/v1/tickets?status=resolved").items.count == 1)
            #expect(try await t.get("/api/v1/tickets?status=open").items.isEmpty)
            // The customer writes again: back to open.
            _ = try await t.postLINE(Payloads.lineText("01ST2", "one more thing"))
            #expect(try await t.get("/api/v1/tickets/\(id)").json["status"] as? String == "open")
        }
    }

    @Test func resolvedTicketsCloseByThemselves() async throws {
        try await TestBridge.with(standIns: [.line], janitorInterval: .milliseconds(50), configure: { $0.autoCloseAfter = 0.2 }) { t in
            _ = try await t.postLINE(Payloads.lineText("01AC", "hello"))
            let id = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            _ = try await t.patchJSON("/api/v1/tickets/\(id)", #"{"status":"resolved"}"#)
            try await t.eventually("auto-close") { try await t.get("/api/v1/tickets/\(id)").json["status"] as? String == "closed" }
            // A new message after closing starts a new ticket.
            _ = try await t.postLINE(Payloads.lineText("01AC2", "hello again"))
            #expect(try await t.get("/api/v1/tickets").items.count == 2)
        }
    }

    /// openapi.yaml documents exactly the routes the server has, and none answers "no route".
    @Test func openAPIDocumentMatchesTheRoutes() async throws {
        try await TestBridge.with { t in
            let text = try await t.get("/api/v1/openapi.yaml", token: nil).text
            let document = try #require(try Yams.load(yaml: text) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            var documented: Set<String> = []
            for (path, value) in paths {
                let operations = try #require(value as? [String: Any])
                for method in operations.keys where ["get", "post", "patch", "put", "delete"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                    let concrete = path.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(of: "{kind}", with: "line")
                        .replacingOccurrences(of: "{accountId}", with: "main")
                    let reply = try await t.request(HTTPMethod(rawValue: method.uppercased()), concrete, body: Data("{}".utf8))
                    #expect(reply.errorMessage?.hasPrefix("no route") != true, "\(method.uppercased()) \(path) is documented but not routed")
                }
            }
            let routed = Set(t.bridge.parts.routes.filter { !$0.contains("/webhooks/slack/") })
            #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
            #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
            #expect(documented.count >= 31)
        }
    }
}

@Suite struct SearchAPITests {
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func searchThroughTheAPI() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.postLINE(Payloads.lineText("01SEARCH1", "注文はどこですか"))
            _ = try await t.postWhatsApp(Payloads.whatsappText("wamid.SEARCH2", "Where is my parcel?"))
            let japanese = try await t.get("/api/v1/tickets?q=%E3%81%A9%E3%81%93%E3%81%A7%E3%81%99")  // どこです
            #expect(japanese.items.compactMap { $0["channels"] as? [String] } == [["line"]])
            let english = try await t.get("/api/v1/tickets?q=parcel&channel=whatsapp")
            #expect(english.items.count == 1)
            #expect(try await t.get("/api/v1/tickets?q=parcel&channel=line").items.isEmpty)
            // The background indexer takes the new messages into the full-text index.
            try await t.eventually("the search index caught up") {
                try await t.bridge.inbox.database.pool.read { db in
                    try Int64.fetchOne(db, sql: "SELECT last_message_id FROM search_cursor") == Int64.fetchOne(db, sql: "SELECT max(id) FROM messages")
                }
            }
            #expect(try await t.get("/api/v1/tickets?q=parcel").items.count == 1)
            let byContact = try await t.get("/api/v1/tickets?contact=Ana")
            #expect(byContact.items.compactMap { ($0["contact"] as? [String: Any])?["displayName"] as? String } == ["Ana"])
        }
    }
}
