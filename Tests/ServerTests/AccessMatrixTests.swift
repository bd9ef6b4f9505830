@testable import BridgeServer
import Foundation
import GRDB
import NIOHTTP1
import Testing
import Yams

/// The permission matrix, generated from the OpenAPI document: every operation it lists × owner,
/// admin, agent and restricted agent. A refusal is a 403 that changes nothing in the database; an
/// allowed call is anything but 401/403. An operation the document gains without a line here fails
/// the test, so a new route cannot go unchecked.
@Suite struct AccessMatrixTests {
    enum Role: String, CaseIterable { case owner, admin, agent, restricted }

    /// Who an operation is for (see `Access.allowed`).
    enum Access {
        /// No bearer token at all (signed webhooks, the login, a history link, the document, the web pages).
        case unauthenticated
        /// Every caller, each seeing only what the access policy lets them (lists, search, the queue).
        case anyone
        /// Owners and admins (settings, reports, campaigns, metrics).
        case settings
        /// Customer data in another department: Bea's billing ticket, her contact, her attachment.
        case customer
        /// Another agent (Otto): only those ranked above him.
        case manageAgent

        func allowed(_ role: Role) -> Bool {
            switch self {
            case .unauthenticated, .anyone: true
            case .settings, .manageAgent: role == .owner || role == .admin
            case .customer: role != .restricted
            }
        }
    }

    /// Every documented operation: who it is for and a body that reaches the access decision.
    static let operations: [String: (Access, String?)] = [
        "GET /health": (.unauthenticated, nil),
        "GET /metrics": (.settings, nil),
        "POST /webhooks/{kind}/{accountId}": (.unauthenticated, nil),
        "GET /webhooks/{kind}/{accountId}": (.unauthenticated, nil),
        "GET /api/v1/openapi.yaml": (.unauthenticated, nil),
        "POST /api/v1/auth/login": (.unauthenticated, nil),
        "POST /api/v1/auth/session": (.unauthenticated, nil),
        "DELETE /api/v1/auth/session": (.unauthenticated, nil),
        "POST /api/v1/auth/invite": (.unauthenticated, #"{"token":"brg_unknown","password":"password-1"}"#),
        "GET /history/{token}": (.unauthenticated, nil),
        "GET /unsubscribe/{token}": (.unauthenticated, nil),
        "POST /unsubscribe/{token}": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/session": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/messages": (.unauthenticated, nil),
        "GET /widget/v1/{accountId}/messages": (.unauthenticated, nil),
        "GET /widget/v1/{accountId}/events": (.unauthenticated, nil),
        "GET /widget/v1/{accountId}/live": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/typing": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/rating": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/offline": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/confirm": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/images": (.unauthenticated, nil),
        "GET /widget/v1/{accountId}/messages/{messageId}/image": (.unauthenticated, nil),
        "POST /widget/v1/{accountId}/transcript": (.unauthenticated, nil),
        "GET /widget.js": (.unauthenticated, nil),
        "GET /widget/{accountId}": (.unauthenticated, nil),
        "GET /media/{id}/{signature}": (.unauthenticated, nil),
        "GET /": (.unauthenticated, nil),
        "GET /inbox": (.unauthenticated, nil),
        "GET /inbox/{path}": (.unauthenticated, nil),
        "GET /console": (.unauthenticated, nil),
        "GET /console/{path}": (.unauthenticated, nil),
        "GET /assets/{version}/{path}": (.unauthenticated, nil),

        "GET /api/v1/tickets": (.anyone, nil),
        "GET /api/v1/tickets/export.csv": (.anyone, nil),
        "POST /api/v1/tickets/bulk": (.anyone, #"{"ticketIds":[{ticket}],"changes":{"addTags":["matrix"]}}"#),
        "POST /api/v1/tickets/counts": (.anyone, #"{"filters":{"all":"","sales":"department={billing}"}}"#),
        "GET /api/v1/queue": (.anyone, nil),
        "GET /api/v1/live": (.anyone, nil),
        "GET /api/v1/events": (.anyone, nil),
        "POST /api/v1/auth/logout": (.anyone, nil),
        "GET /api/v1/me": (.anyone, nil),
        "GET /api/v1/me/alerts": (.anyone, nil),
        "PUT /api/v1/me/alerts": (.anyone, #"{"media":{}}"#),
        "GET /api/v1/me/push-subscriptions": (.anyone, nil),
        "POST /api/v1/me/push-subscriptions": (.anyone, #"{"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":"x","auth":"x"}}"#),
        "DELETE /api/v1/me/push-subscriptions/{id}": (.anyone, nil),
        "GET /api/v1/me/push-devices": (.anyone, nil),
        "POST /api/v1/me/push-devices": (.anyone, #"{"platform":"fcm","token":"matrix-device"}"#),
        "DELETE /api/v1/me/push-devices/{id}": (.anyone, nil),
        "GET /api/v1/push/vapid-public-key": (.anyone, nil),
        "GET /api/v1/agents": (.anyone, nil),
        "GET /api/v1/agents/{id}": (.anyone, nil),
        "GET /api/v1/departments": (.anyone, nil),
        "GET /api/v1/fields": (.anyone, nil),
        "GET /api/v1/canned-responses": (.anyone, nil),
        "GET /api/v1/forbidden-words": (.anyone, nil),
        "POST /api/v1/forbidden-words/check": (.anyone, #"{"text":"darn it"}"#),
        "GET /api/v1/rules": (.anyone, nil),
        "GET /api/v1/business-hours": (.anyone, nil),
        "GET /api/v1/departments/{id}/hours": (.anyone, nil),
        "GET /api/v1/views": (.anyone, nil),
        "GET /api/v1/channels/{channel}/templates": (.anyone, nil),
        "GET /api/v1/channel-accounts": (.settings, nil),
        "POST /api/v1/channel-accounts": (.settings, #"{"kind":"line","id":"matrix","fields":{"channelSecret":"matrix-secret-0000","accessToken":"matrix-token"}}"#),
        "PATCH /api/v1/channel-accounts/{kind}/{id}": (.settings, #"{"enabled":false}"#),
        "POST /api/v1/channel-accounts/{kind}/{id}/test-message": (.settings, #"{"recipient":"Umatrix"}"#),
        "POST /api/v1/uploads": (.anyone, nil),

        "POST /api/v1/agents": (.settings, #"{"email":"new.{role}@example.com","name":"New"}"#),
        "POST /api/v1/departments": (.settings, #"{"name":"Dept {role}"}"#),
        "POST /api/v1/fields": (.settings, #"{"key":"plan_{role}","label":"Plan","type":"text"}"#),
        "POST /api/v1/canned-responses": (.settings, #"{"shortcut":"hi{role}","text":"Hi","mine":false}"#),
        "DELETE /api/v1/canned-responses/{id}": (.settings, nil),
        "PATCH /api/v1/canned-responses/{id}": (.settings, #"{"title":"Thanks {role}"}"#),
        "DELETE /api/v1/fields/{id}": (.settings, nil),
        "POST /api/v1/forbidden-words": (.settings, #"{"word":"heck{role}"}"#),
        "DELETE /api/v1/forbidden-words/{word}": (.settings, nil),
        "GET /api/v1/unreadable-events": (.settings, nil),
        "GET /api/v1/system": (.settings, nil),
        "GET /api/v1/data/retention": (.settings, nil),
        "PUT /api/v1/data/retention": (.settings, #"{"messagesDays":3650,"attachmentsDays":null}"#),
        "POST /api/v1/data/erasures": (.settings, #"{"contactId":999999}"#),
        "GET /api/v1/data/contacts/{id}/export": (.settings, nil),
        "GET /api/v1/audit-log": (.settings, nil),
        "GET /api/v1/webhooks": (.settings, nil),
        "POST /api/v1/webhooks": (.settings, #"{"url":"http://127.0.0.1:9/{role}"}"#),
        "DELETE /api/v1/webhooks/{id}": (.settings, nil),
        "GET /api/v1/webhooks/{id}/deliveries": (.settings, nil),
        "GET /api/v1/reports/agents": (.settings, nil),
        "GET /api/v1/reports/channels": (.settings, nil),
        "GET /api/v1/reports/service": (.settings, nil),
        "GET /api/v1/reports/daily-summary": (.settings, nil),
        "PUT /api/v1/reports/daily-summary/recipients/{id}": (.settings, nil),
        "DELETE /api/v1/reports/daily-summary/recipients/{id}": (.settings, nil),
        "POST /api/v1/rules": (.settings, #"{"name":"r{role}","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"y"}]}"#),
        "DELETE /api/v1/rules/{id}": (.settings, nil),
        "PUT /api/v1/rules/order": (.settings, #"{"ids":[{rule}]}"#),
        "POST /api/v1/agents/{id}/invite": (.manageAgent, nil),
        "POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver": (.settings, nil),
        "GET /api/v1/spam": (.settings, nil),
        "PUT /api/v1/spam": (.settings, #"{"threshold":0.9}"#),
        "PUT /api/v1/rules/{id}": (.settings, #"{"name":"r{role}","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"z"}]}"#),
        "POST /api/v1/rules/test": (.settings, #"{"ticketId":{ticket},"trigger":"message_received"}"#),
        "PUT /api/v1/business-hours": (.settings, #"{"timeZone":"UTC","weekly":{"mon":[["09:00","17:00"]]}}"#),
        "PUT /api/v1/departments/{id}/hours": (.settings, #"{"timeZone":"UTC","weekly":{"mon":[["09:00","17:00"]]}}"#),
        "DELETE /api/v1/departments/{id}/hours": (.settings, nil),
        "PUT /api/v1/channel-accounts/{kind}/{id}/department": (.settings, #"{"departmentId":{billing}}"#),
        "POST /api/v1/views": (.settings, #"{"name":"VIP {role}","filter":"tag=vip","shared":true}"#),
        "DELETE /api/v1/views/{id}": (.settings, nil),
        "GET /api/v1/campaigns": (.settings, nil),
        "POST /api/v1/campaigns": (.settings, #"{"name":"c {role}","channel":"line","audience":{"contactIds":[{contact}]},"content":{"text":"hi"}}"#),
        "GET /api/v1/campaigns/{id}": (.settings, nil),
        "POST /api/v1/campaigns/{id}/start": (.settings, nil),
        "POST /api/v1/campaigns/{id}/pause": (.settings, nil),
        "POST /api/v1/campaigns/{id}/resume": (.settings, nil),
        "POST /api/v1/campaigns/{id}/cancel": (.settings, nil),
        "GET /api/v1/campaigns/{id}/report": (.settings, nil),
        "GET /api/v1/campaigns/{id}/recipients": (.settings, nil),
        "GET /api/v1/email-opt-outs": (.settings, nil),
        "POST /api/v1/email-opt-outs": (.settings, #"{"address":"matrix-{role}@example.com"}"#),
        "DELETE /api/v1/email-opt-outs/{address}": (.settings, nil),
        "POST /api/v1/campaigns/preview": (.settings, #"{"audience":{"contactIds":[{contact}]},"content":{"text":"hi"}}"#),

        "PATCH /api/v1/agents/{id}": (.manageAgent, #"{"maxTickets":9}"#),
        "GET /api/v1/agents/{id}/tokens": (.manageAgent, nil),
        "POST /api/v1/agents/{id}/tokens": (.manageAgent, "{}"),
        "DELETE /api/v1/agents/{id}/tokens": (.manageAgent, nil),
        "DELETE /api/v1/agents/{id}/tokens/{tokenId}": (.manageAgent, nil),
        "POST /api/v1/agents/{id}/deactivate": (.manageAgent, nil),
        "POST /api/v1/agents/{id}/reactivate": (.manageAgent, nil),

        "GET /api/v1/tickets/{id}": (.customer, nil),
        "PATCH /api/v1/tickets/{id}": (.customer, #"{"priority":"high"}"#),
        "GET /api/v1/tickets/{id}/messages": (.customer, nil),
        "POST /api/v1/tickets/{id}/messages": (.customer, #"{"text":"hello from {role}"}"#),
        "POST /api/v1/tickets/{id}/claim": (.customer, nil),
        "POST /api/v1/tickets/{id}/transfer": (.customer, #"{"departmentId":{billing}}"#),
        "GET /api/v1/tickets/{id}/history": (.customer, nil),
        "GET /api/v1/tickets/{id}/notes": (.customer, nil),
        "GET /api/v1/tickets/{id}/draft": (.customer, nil),
        "PUT /api/v1/tickets/{id}/draft": (.customer, #"{"text":"draft by {role}"}"#),
        "DELETE /api/v1/tickets/{id}/draft": (.customer, nil),
        "POST /api/v1/tickets/{id}/notes": (.customer, #"{"text":"note by {role}"}"#),
        "PUT /api/v1/tickets/{id}/read": (.customer, nil),
        "DELETE /api/v1/tickets/{id}/read": (.customer, nil),
        "POST /api/v1/tickets/{id}/merge": (.customer, #"{"ticketIds":[{ticket}]}"#),
        "POST /api/v1/tickets/{id}/split": (.customer, #"{"messageIds":[{message}]}"#),
        "POST /api/v1/tickets/{id}/spam": (.customer, nil),
        "DELETE /api/v1/tickets/{id}/spam": (.customer, nil),
        "GET /api/v1/tickets/{id}/transcript": (.customer, nil),
        "POST /api/v1/contacts/{id}/history-link": (.customer, "{}"),
        "POST /api/v1/contacts/{id}/messages": (.customer, #"{"text":"hello"}"#),
        "PATCH /api/v1/contacts/{id}": (.customer, #"{"displayName":"Bea {role}"}"#),
        "GET /api/v1/contacts/{id}": (.customer, nil),
        "POST /api/v1/contacts/{id}/links": (.customer, #"{"contactId":{otherContact}}"#),
        "GET /api/v1/attachments/{id}": (.customer, nil),
        "POST /api/v1/messages/{id}/retry": (.customer, nil),
    ]

    static func documentedOperations() throws -> [String] {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.text()) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        return paths.flatMap { path, operations in
            operations.keys.filter { ["get", "post", "put", "patch", "delete"].contains($0) }.map { "\($0.uppercased()) \(path)" }
        }.sorted()
    }

    @Test func everyDocumentedOperationHasAnExpectation() throws {
        let documented = try Self.documentedOperations()
        #expect(Set(documented).subtracting(Self.operations.keys).sorted() == [], "operations the matrix does not know")
        #expect(Set(Self.operations.keys).subtracting(documented).sorted() == [], "expectations for operations the document lacks")
    }

    /// The world the matrix runs in: Sam is restricted to Sales; Bea is a Billing customer.
    struct World {
        var tokens: [Role: String] = [:]
        var values: [String: String] = [:]
    }

    func build(_ t: TestBridge) async throws -> World {
        var world = World()
        let sales = try await t.addDepartment("Sales")
        let billing = try await t.addDepartment("Billing")
        world.tokens[.owner] = try await t.addAgent("Olga", role: "owner").token
        world.tokens[.admin] = try await t.addAgent("Ada", role: "admin").token
        world.tokens[.agent] = try await t.addAgent("Carl").token
        let sam = try await t.addAgent("Sam", departments: [sales])
        #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
        world.tokens[.restricted] = sam.token
        let otto = try await t.addAgent("Otto")
        let ottoToken = try #require(try await t.get("/api/v1/agents/\(otto.id)/tokens").items.first?["id"] as? Int)

        _ = try await t.postLINE(Payloads.lineImage("01MATRIXIMG").replacingOccurrences(of: Payloads.lineUser, with: "Ubea00000000000000000000000000009"))
        let ticket = try await t.customerWrites("Ubea00000000000000000000000000009", "my invoice is wrong")
        _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(billing)}"#)
        let ken = try await t.customerWrites("Uken00000000000000000000000000009", "hello sales")
        _ = try await t.postJSON("/api/v1/tickets/\(ken)/transfer", #"{"departmentId":\#(sales)}"#)
        var attachment = 0
        try await t.eventually("Bea's picture is stored") {
            let first = try await t.messages(ticket: ticket).compactMap { ($0["attachments"] as? [[String: Any]])?.first }.first
            attachment = first?["id"] as? Int ?? 0
            return first?["status"] as? String == "stored"
        }
        func contact(_ ticket: Int64) async throws -> Int { try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int) }
        let bea = try await contact(ticket)
        let webhook = try #require(try await t.postJSON("/api/v1/webhooks", #"{"url":"http://127.0.0.1:9/x"}"#).json["id"] as? Int)
        let rule = try #require(try await t.postJSON("/api/v1/rules", #"{"name":"r","trigger":"ticket_created","actions":[{"type":"add_tag","tag":"x"}]}"#).json["id"] as? Int)
        let canned = try #require(try await t.postJSON("/api/v1/canned-responses", #"{"shortcut":"thanks","text":"Thanks!","mine":false}"#).json["id"] as? Int)
        let view = try #require(try await t.postJSON("/api/v1/views", #"{"name":"Shared","filter":"tag=vip","shared":true}"#).json["id"] as? Int)
        _ = try await t.postJSON("/api/v1/forbidden-words", #"{"word":"darn"}"#)
        let field = try #require(try await t.postJSON("/api/v1/fields", #"{"key":"matrix","label":"Matrix","type":"text"}"#).json["id"] as? Int)
        let campaign = try #require(try await t.postJSON(
            "/api/v1/campaigns", #"{"name":"Draft","channel":"line","audience":{"contactIds":[\#(bea)]},"content":{"text":"hi"}}"#).json["id"] as? Int)
        let link = try #require(try await t.postJSON("/api/v1/contacts/\(bea)/history-link", "{}").json["url"] as? String)
        world.values = [
            "ticket": String(ticket), "contact": String(bea), "otherContact": String(try await contact(ken)), "attachment": String(attachment),
            "message": String(try #require(try await t.messages(ticket: ticket).last?["id"] as? Int)),
            "billing": String(billing), "otto": String(otto.id), "ottoToken": String(ottoToken), "webhook": String(webhook), "rule": String(rule),
            "canned": String(canned), "view": String(view), "field": String(field), "campaign": String(campaign), "historyToken": String(link.split(separator: "/").last ?? ""),
        ]
        return world
    }

    /// The operation's path with the world's ids in it.
    func concrete(_ path: String, _ world: World) -> String {
        let id: String =
            switch path.split(separator: "/").dropFirst(2).first {
            case "tickets": world.values["ticket"]!
            case "contacts": world.values["contact"]!
            case "attachments": world.values["attachment"]!
            case "messages": world.values["message"]!
            case "agents": world.values["otto"]!
            case "departments": world.values["billing"]!
            case "webhooks": world.values["webhook"]!
            case "rules": world.values["rule"]!
            case "canned-responses": world.values["canned"]!
            case "views": world.values["view"]!
            case "fields": world.values["field"]!
            case "campaigns": world.values["campaign"]!
            case "channel-accounts": "matrix"
            default: "999999"  // another agent's push subscription or device: not found, never someone else's
            }
        return path.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{tokenId}", with: world.values["ottoToken"]!)
            .replacingOccurrences(of: "{deliveryId}", with: "999999").replacingOccurrences(of: "{word}", with: "darn").replacingOccurrences(of: "{channel}", with: "whatsapp")
            .replacingOccurrences(of: "{kind}", with: "line").replacingOccurrences(of: "{address}", with: "matrix@example.com")
    }

    func fill(_ body: String, _ world: World, _ role: Role) -> String {
        world.values.reduce(body.replacingOccurrences(of: "{role}", with: role.rawValue)) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
    }

    /// Everything a request could change, without the followers' own bookkeeping (cursors, the
    /// search index, alerts, jobs and the run-once leases' renewals move on their own).
    func snapshot(_ t: TestBridge) async throws -> String {
        try await t.bridge.inbox.database.pool.read { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'
                  AND name NOT IN ('feed_cursors', 'search_cursor', 'console_cursors', 'console_threads', 'notifications', 'jobs', 'rule_runs', 'run_once_leases', 'grdb_migrations')
                ORDER BY name
                """)
            return try tables.map { "\($0): " + (try Row.fetchAll(db, sql: "SELECT * FROM \($0) ORDER BY 1").description) }.joined(separator: "\n")
        }
    }

    func call(_ t: TestBridge, _ operation: String, _ world: World, _ role: Role) async throws -> TestBridge.Reply {
        let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
        let body = Self.operations[operation]?.1.map { fill($0, world, role) }
        return try await t.request(
            HTTPMethod(rawValue: parts[0]), concrete(parts[1], world), body: body.map { Data($0.utf8) }, headers: [("Content-Type", "application/json")],
            token: world.tokens[role])
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func everyOperationForEveryRole() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let world = try await build(t)
            let checked = Self.operations.filter { if case .unauthenticated = $0.value.0 { false } else { true } }.keys.sorted()
            // First every refusal, while the world is as built: a 403 that changed nothing.
            var refusals = 0
            for operation in checked {
                for role in Role.allCases where !Self.operations[operation]!.0.allowed(role) {
                    let before = try await snapshot(t)
                    let reply = try await call(t, operation, world, role)
                    #expect(reply.status == 403, "\(role) \(operation): \(reply.status) \(reply.text.prefix(200))")
                    #expect(try await snapshot(t) == before, "\(role) \(operation) changed something")
                    refusals += 1
                }
            }
            let expected = checked.reduce(0) { count, operation in count + Role.allCases.filter { !Self.operations[operation]!.0.allowed($0) }.count }
            #expect(refusals == expected && refusals > 90)
            // Then every allowed call (the caller's own logout last: it ends the caller's token).
            for operation in checked.sorted(by: { a, _ in !a.hasSuffix("/logout") }) {
                for role in Role.allCases where Self.operations[operation]!.0.allowed(role) {
                    let reply = try await call(t, operation, world, role)
                    #expect(![401, 403].contains(reply.status), "\(role) \(operation): \(reply.status) \(reply.text.prefix(200))")
                }
            }
        }
    }
}
