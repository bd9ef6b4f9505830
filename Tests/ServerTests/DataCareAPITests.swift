@testable import BridgeServer
import Foundation
import TestSupport
import Testing
import UniversalInbox

/// The Data and Health API through a running bridge: the audit log records owners' and admins'
/// settings changes (and nothing else, and never a secret); bad input changes nothing; erasing a
/// contact deletes their attachment files too; the retention duty runs on the bridge's clock.
@Suite struct DataCareAPITests {
    func audit(_ t: TestBridge) async throws -> [[String: Any]] { try await t.get("/api/v1/audit-log").items }

    @Test func theAuditLogRecordsSettingsChangesByOwnersAndAdminsAndNoSecret() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let olga = try await t.addAgent("Olga", role: "owner")
            let carl = try await t.addAgent("Carl")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let start = try await audit(t).count  // the admin token added Olga and Carl, and their tokens

            // Bad input: a clear error, nothing changed, nothing recorded.
            let bad = try await t.request(
                .PUT, "/api/v1/data/retention", body: Data(#"{"messagesDays":0,"attachmentsDays":null}"#.utf8), headers: [("Content-Type", "application/json")],
                token: olga.token)
            #expect(bad.status == 400 && bad.errorCode == "invalid_retention")
            let missing = try await t.request(
                .PUT, "/api/v1/data/retention", body: Data(#"{"messagesDays":30}"#.utf8), headers: [("Content-Type", "application/json")], token: olga.token)
            #expect(missing.status == 400)
            #expect(try await t.get("/api/v1/data/retention").json["messagesDays"] is NSNull)
            // An agent is refused, and nothing is recorded.
            let refused = try await t.request(
                .PUT, "/api/v1/data/retention", body: Data(#"{"messagesDays":30,"attachmentsDays":null}"#.utf8), headers: [("Content-Type", "application/json")],
                token: carl.token)
            #expect(refused.status == 403)
            #expect(try await t.get("/api/v1/audit-log", token: carl.token).status == 403)
            #expect(try await t.get("/api/v1/system", token: carl.token).status == 403)
            // Ticket work by an owner, and an agent's own canned response, are not settings changes.
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"a note"}"#, token: olga.token).status == 201)
            #expect(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"mine","text":"Hi","mine":true}"#, token: carl.token).status == 201)
            #expect(try await audit(t).count == start)

            // A body sent as text/plain is read by the route all the same, and summarized too.
            let plain = try await t.request(
                .PUT, "/api/v1/data/retention", body: Data(#"{"messagesDays":45,"attachmentsDays":null}"#.utf8), headers: [("Content-Type", "text/plain")],
                token: olga.token)
            #expect(plain.status == 200)
            #expect(try #require(try await audit(t).first)["summary"] as? String == "messagesDays=45, attachmentsDays=none")
            let afterPlain = try await audit(t).count

            // Settings changes are recorded: who, what, the target, a summary without secrets.
            let ok = try await t.request(
                .PUT, "/api/v1/data/retention", body: Data(#"{"messagesDays":30,"attachmentsDays":null}"#.utf8), headers: [("Content-Type", "application/json")],
                token: olga.token)
            #expect(ok.status == 200 && ok.json["messagesDays"] as? Int == 30)
            let agent = try await t.postJSON(
                "/api/v1/agents", #"{"email":"new@example.com","name":"Nina","role":"admin","password":"hunter2-very-secret"}"#, token: olga.token)
            #expect(agent.status == 201)
            let hook = try await t.postJSON("/api/v1/webhooks", #"{"url":"http://127.0.0.1:9/hook?key=url-secret"}"#, token: olga.token)
            #expect(hook.status == 201)
            let rule = try #require(try await t.postJSON(
                "/api/v1/rules", #"{"name":"tag it","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"x"}]}"#, token: olga.token).json["id"] as? Int)
            #expect(try await t.request(.DELETE, "/api/v1/rules/\(rule)", token: olga.token).status == 204)

            let entries = try await audit(t)
            #expect(afterPlain == start + 1 && entries.count == start + 6)
            let newest = Array(entries.prefix(5))
            #expect(newest.map { "\($0["method"]!) \($0["route"]!)" } == [
                "DELETE /api/v1/rules/{id}", "POST /api/v1/rules", "POST /api/v1/webhooks", "POST /api/v1/agents", "PUT /api/v1/data/retention",
            ])
            #expect(newest.allSatisfy { $0["actorName"] as? String == "Olga" && $0["actorRole"] as? String == "owner" && $0["actorId"] as? Int == Int(olga.id) })
            #expect(newest[0]["targetId"] as? String == String(rule))
            #expect(newest[1]["summary"] as? String == "name=tag it, trigger=ticket_created, +1 more")
            #expect(newest[3]["summary"] as? String == "name=Nina, email=new@example.com, role=admin, +1 more")
            #expect(newest[4]["summary"] as? String == "messagesDays=30, attachmentsDays=none")
            let text = try await t.get("/api/v1/audit-log").text
            #expect(!text.contains("hunter2") && !text.contains("url-secret"))
            // Paging.
            let page = try await t.get("/api/v1/audit-log?limit=2").items
            #expect(page.count == 2)
            let next = try await t.get("/api/v1/audit-log?limit=2&before=\(page[1]["id"] as! Int)").items
            #expect(next.first?["id"] as? Int == entries[2]["id"] as? Int)
        }
    }

    @Test func erasingAContactDeletesTheirTicketsAndAttachmentFiles() async throws {
        let media = FileManager.default.temporaryDirectory.appendingPathComponent("erase-media-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: media) }
        try await TestBridge.with(standIns: [.line], configure: { $0.media.directory = media }) { t in
            _ = try await t.postLINE(Payloads.lineImage("01ERASEIMAGE"))
            let ticket = try await t.customerWrites(Payloads.lineUser, "forget me")
            var attachment = 0
            try await t.eventually("the picture is stored") {
                let first = try await t.messages(ticket: ticket).compactMap { ($0["attachments"] as? [[String: Any]])?.first }.first
                attachment = first?["id"] as? Int ?? 0
                return first?["status"] as? String == "stored"
            }
            let file = media + "/\(attachment)"
            #expect(FileManager.default.fileExists(atPath: file))
            let contact = try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int)

            let export = try await t.get("/api/v1/data/contacts/\(contact)/export")
            #expect(export.status == 200 && export.headers["Content-Disposition"].first == "attachment; filename=\"contact-\(contact).json\"")
            #expect(export.text.contains("forget me"))
            // Handing out a customer's data is recorded, like a change.
            let exported = try #require(try await audit(t).first)
            #expect(exported["method"] as? String == "GET" && exported["route"] as? String == "/api/v1/data/contacts/{id}/export")
            #expect(exported["targetId"] as? String == String(contact))
            #expect(try await t.get("/api/v1/data/contacts/999999/export").status == 404)
            #expect(try #require(try await audit(t).first)["id"] as? Int == exported["id"] as? Int)  // a refused read is not
            // The router ignores empty path segments; so does the audit log.
            #expect(try await t.get("/api/v1/data/contacts/\(contact)/export/").status == 200)
            let slashed = try #require(try await audit(t).first)
            #expect(slashed["id"] as? Int != exported["id"] as? Int && slashed["route"] as? String == "/api/v1/data/contacts/{id}/export")

            #expect(try await t.postJSON("/api/v1/data/erasures", #"{"contactId":0}"#).status == 400)
            let erased = try await t.postJSON("/api/v1/data/erasures", #"{"contactId":\#(contact)}"#)
            #expect(erased.status == 200)
            #expect(erased.json["tickets"] as? Int == 1 && erased.json["messages"] as? Int == 2 && erased.json["attachments"] as? Int == 1)
            #expect(!FileManager.default.fileExists(atPath: file))
            #expect(try await t.get("/api/v1/tickets/\(ticket)").status == 404)
            #expect(try await t.get("/api/v1/contacts/\(contact)").status == 404)
            #expect(try await t.get("/api/v1/data/contacts/\(contact)/export").status == 404)
            #expect(try await t.postJSON("/api/v1/data/erasures", #"{"contactId":\#(contact)}"#).errorCode == "not_found")
            let entry = try #require(try await audit(t).first)
            #expect(entry["route"] as? String == "/api/v1/data/erasures" && entry["targetId"] as? String == String(contact))
        }
    }

    @Test func theRetentionDutyClearsOldMessagesAndAttachmentsOnTheBridgesClock() async throws {
        let media = FileManager.default.temporaryDirectory.appendingPathComponent("retain-media-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: media) }
        let clock = ManualClock()
        try await TestBridge.with(standIns: [.line], janitorInterval: .milliseconds(50), clock: clock, configure: { $0.media.directory = media }) { t in
            _ = try await t.postLINE(Payloads.lineImage("01RETAINIMAGE"))
            let ticket = try await t.customerWrites(Payloads.lineUser, "old words")
            var attachment = 0
            try await t.eventually("the picture is stored") {
                let first = try await t.messages(ticket: ticket).compactMap { ($0["attachments"] as? [[String: Any]])?.first }.first
                attachment = first?["id"] as? Int ?? 0
                return first?["status"] as? String == "stored"
            }
            let file = media + "/\(attachment)"
            #expect(try await t.request(
                .PUT, "/api/v1/data/retention", body: Data(#"{"messagesDays":2,"attachmentsDays":1}"#.utf8), headers: [("Content-Type", "application/json")]
            ).status == 200)
            // Nothing is old enough yet.
            #expect(try await t.messages(ticket: ticket).contains { $0["text"] as? String == "old words" })
            clock.advance(by: 3 * 86400)
            try await t.eventually("the old message is cleared and the picture deleted") {
                let messages = try await t.messages(ticket: ticket)
                return !FileManager.default.fileExists(atPath: file) && messages.allSatisfy { ($0["text"] as? String ?? "").isEmpty }
                    && messages.allSatisfy { ($0["attachments"] as? [Any] ?? []).isEmpty }
            }
        }
    }

    @Test func theHealthFiguresAnswerForOwners() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.customerWrites(Payloads.lineUser, "hello")
            let system = try await t.get("/api/v1/system")
            #expect(system.status == 200)
            #expect(system.json["version"] as? String == DataController.version)
            #expect(system.json["database"] as? String == (TestDatabase.isPostgres ? "postgresql" : "sqlite"))
            #expect((system.json["databaseBytes"] as? Int ?? 0) > 0)
            #expect((system.json["queues"] as? [String: Any])?.keys.sorted() == ["alertDeliveries", "campaignRecipients", "jobs", "outbox", "webhookDeliveries"])
            #expect(system.json["metricsPath"] as? String == "/metrics")
        }
    }
}
