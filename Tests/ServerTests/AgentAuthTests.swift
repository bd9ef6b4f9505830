@testable import BridgeServer
import Foundation
import GRDB
import Testing
import UniversalInbox

/// Agents, logins, tokens and the permission matrix, through the REST API on a real SQLite file.
@Suite struct AgentAuthTests {
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func loginWithPasswordThenLogout() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann", password: "correct horse battery")
            let hash = try await t.bridge.inbox.database.pool.read { db in
                try String.fetchOne(db, sql: "SELECT password_hash FROM agents WHERE id = ?", arguments: [ann.id])
            }
            #expect(hash?.hasPrefix("$2b$04$") == true)  // bcrypt, the password itself is not stored
            #expect(hash?.contains("correct horse") == false)

            let wrong = try await t.postJSON("/api/v1/auth/login", #"{"email":"ann@example.com","password":"wrong horse battery"}"#, token: nil)
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == "invalid_credentials")
            let unknown = try await t.postJSON("/api/v1/auth/login", #"{"email":"nobody@example.com","password":"correct horse battery"}"#, token: nil)
            #expect(unknown.status == 401)
            #expect(unknown.errorCode == "invalid_credentials")

            let login = try await t.postJSON("/api/v1/auth/login", #"{"email":"ANN@example.com","password":"correct horse battery"}"#, token: nil)
            #expect(login.status == 201)
            let session = try #require(login.json["token"] as? String)
            let me = try await t.get("/api/v1/me", token: session)
            #expect(me.json["name"] as? String == "Ann")
            #expect(me.json["role"] as? String == "agent")

            #expect(try await t.postJSON("/api/v1/auth/logout", "{}", token: session).status == 204)
            #expect(try await t.get("/api/v1/me", token: session).status == 401)
            // The API token made earlier still works.
            #expect(try await t.get("/api/v1/me", token: ann.token).status == 200)
        }
    }

    @Test func passwordsAndAgentsAreValidated() async throws {
        try await TestBridge.with { t in
            let short = try await t.postJSON("/api/v1/agents", #"{"email":"b@example.com","name":"B","password":"short"}"#)
            #expect(short.status == 400)
            #expect(short.errorCode == "invalid_password")
            #expect(try await t.postJSON("/api/v1/agents", #"{"email":"not-an-address","name":"B"}"#).errorCode == "invalid_email")
            #expect(try await t.postJSON("/api/v1/agents", #"{"email":"b@example.com","name":"B","role":"boss"}"#).errorCode == "invalid_role")
            _ = try await t.addAgent("Bea")
            let twice = try await t.postJSON("/api/v1/agents", #"{"email":"BEA@example.com","name":"Bea again"}"#)
            #expect(twice.status == 409)
            #expect(twice.errorCode == "email_taken")
            #expect(try await t.get("/api/v1/agents").items.count == 1)
        }
    }

    @Test func agentsCannotChangeSettings() async throws {
        try await TestBridge.with { t in
            let admin = try await t.addAgent("Ada Admin", role: "admin")
            let agent = try await t.addAgent("Carl")
            let other = try await t.addAgent("Dora")

            for (path, body) in [
                ("/api/v1/agents", #"{"email":"x@example.com","name":"X"}"#), ("/api/v1/departments", #"{"name":"Sales"}"#),
                ("/api/v1/agents/\(other.id)/tokens", "{}"),
            ] {
                let refused = try await t.postJSON(path, body, token: agent.token)
                #expect(refused.status == 403, "\(path)")
                #expect(refused.errorCode == "admins_only")
            }
            #expect(try await t.patchJSON("/api/v1/agents/\(other.id)", #"{"availability":"online"}"#, token: agent.token).status == 403)
            // Its own settings (role, capacity, restrictions) are not its to change either.
            #expect(try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"role":"admin"}"#, token: agent.token).status == 403)
            #expect(try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"maxTickets":50}"#, token: agent.token).status == 403)
            #expect(try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"answerAssignedOnly":false}"#, token: agent.token).status == 403)
            // Its availability is.
            let online = try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"availability":"break"}"#, token: agent.token)
            #expect(online.json["availability"] as? String == "break")

            // An admin manages settings but cannot make an owner.
            #expect(try await t.postJSON("/api/v1/departments", #"{"name":"Sales"}"#, token: admin.token).status == 201)
            #expect(try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"maxTickets":8}"#, token: admin.token).json["maxTickets"] as? Int == 8)
            let owner = try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"role":"owner"}"#, token: admin.token)
            #expect(owner.status == 403)
            #expect(owner.errorCode == "role_above_yours")
            #expect(try await t.get("/api/v1/agents/\(agent.id)").json["role"] as? String == "agent")
        }
    }

    @Test func departmentRestrictionHidesOtherDepartmentsTickets() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let billing = try await t.addDepartment("Billing")
            let sam = try await t.addAgent("Sam", departments: [sales])
            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
            let salesTicket = try await t.customerWrites("Usales0000000000000000000000000001", "I want to buy")
            let billingTicket = try await t.customerWrites("Ubilling00000000000000000000000001", "My invoice is wrong")
            _ = try await t.postJSON("/api/v1/tickets/\(salesTicket)/transfer", #"{"departmentId":\#(sales)}"#)
            _ = try await t.postJSON("/api/v1/tickets/\(billingTicket)/transfer", #"{"departmentId":\#(billing)}"#)

            let listed = try await t.get("/api/v1/tickets", token: sam.token).items.compactMap { $0["id"] as? Int64 }
            #expect(listed == [salesTicket])
            for path in ["", "/messages", "/notes", "/history"] {
                let refused = try await t.get("/api/v1/tickets/\(billingTicket)\(path)", token: sam.token)
                #expect(refused.status == 403, "\(path)")
                #expect(refused.errorCode == "not_your_department")
            }
            let reply = try await t.postJSON("/api/v1/tickets/\(billingTicket)/messages", #"{"text":"hi"}"#, token: sam.token)
            #expect(reply.status == 403)
            #expect(try await t.postJSON("/api/v1/tickets/\(billingTicket)/claim", "{}", token: sam.token).status == 403)
            #expect(try await t.messages(ticket: billingTicket).count == 1)
            #expect(try await t.get("/api/v1/tickets/\(salesTicket)/messages", token: sam.token).status == 200)

            // Unrestricted, the same agent sees both.
            _ = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":false}"#)
            #expect(try await t.get("/api/v1/tickets", token: sam.token).items.count == 2)
        }
    }

    @Test func answerOnlyAssignedTickets() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ria = try await t.addAgent("Ria")
            _ = try await t.patchJSON("/api/v1/agents/\(ria.id)", #"{"answerAssignedOnly":true}"#)
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            #expect(try await t.get("/api/v1/tickets/\(ticket)", token: ria.token).status == 200)  // may read
            let refused = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"Hi!"}"#, token: ria.token)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "not_assigned_to_you")
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"pending"}"#, token: ria.token).status == 403)

            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ria.token).status == 200)
            let sent = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"Hi!"}"#, token: ria.token)
            #expect(sent.status == 202)
            #expect(sent.json["author"] as? String == "agent:\(ria.id)")
        }
    }

    @Test func cliAddsAnAgentWithAToken() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-cli-\(UUID().uuidString)").path
        let yaml = dir + "/bridge.yaml"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "database:\n  url: sqlite:\(dir)/bridge.sqlite\nauth:\n  bcryptCost: 4\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let command = try Bridge.AgentCommand.Add.parse([
            "--config", yaml, "--email", "olga@example.com", "--name", "Olga", "--role", "owner", "--department", "Support", "--department", "VIP",
        ])
        try await command.run()
        let inbox = Inbox(database: try AppDatabase(path: dir + "/bridge.sqlite"))
        let agents = try await inbox.agents()
        #expect(agents.map(\.email) == ["olga@example.com"])
        #expect(agents.first?.role == .owner)
        #expect(try await inbox.departments().map(\.name) == ["Support", "VIP"])
        #expect(agents.first?.departments.count == 2)
        let bad = try Bridge.AgentCommand.Add.parse(["--config", yaml, "--email", "olga@example.com", "--name", "Olga"])
        await #expect(throws: StartupError.self) { try await bad.run() }
    }
}
